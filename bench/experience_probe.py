"""How much of a group's missing exposure does the ranker's reading of work experience carry? (issue 19 item 1)

On a larger world (36,000 clients, 792 held-out pools) the shipped ranker gives clients under 27 0.75 of the top-10
places their hidden suitability merits (relevance only; served 0.74), while :mod:`bench.geslacht_x_probe` shows their
merit rows differ from the others' mostly in ``experience_years`` (1.07 against 1.52–1.62). This probe scores the
same cached pools again with that one column capped at C years for every row (C = 0 reads no experience at all) and
reports, per cap, NDCG@10 against the hidden truth and exposure ÷ merit (top-10 share ÷ share among the truly
suitable, relevance only) for every group of the attribute. A diagnostic, not a fix: a ranker trained with a capped
column would learn the other columns' weights anew.

Usage (the cache of ``bench/geslacht_x_probe.py`` on the same world; nothing is written to the world)::

    WERKMATCH_DATA_DIR=<world> python bench/experience_probe.py --cache <probe cache> --out <file>
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from matching.features import EXPERIENCE_COLUMN

COLUMN = EXPERIENCE_COLUMN


def probe(cache: dict[str, Any], caps: list[float | None], attribute: str) -> list[dict[str, Any]]:
    from api.cli.common import matcher, settings
    from api.cli.models import _registered
    from bench.geslacht_x_probe import exposure_vs_merit
    from training.fairness import suitable_in_pool, top_k_mask
    from training.metrics import summarise

    config = settings()
    champion = _registered(config, matcher(config))[0]["champion"]
    names = [str(name) for name in cache["feature_names"]]
    vacancy_ids, labels = cache["vacancy_ids"], cache["labels"]
    merit = suitable_in_pool(cache["truth"], vacancy_ids)
    groups = cache[f"group_{attribute}"]
    out = []
    for cap in caps:
        features = cache["features"].copy()
        if cap is not None:
            features[:, names.index(COLUMN)] = np.minimum(features[:, names.index(COLUMN)], cap)
        scores = np.asarray(champion.score(features, cache["client_ids"]), np.float64)
        top = top_k_mask(scores, vacancy_ids)
        quality = summarise(labels, scores, vacancy_ids)
        out.append(
            {
                "cap": cap,
                "ndcg@10": quality["ndcg@10"],
                "ndcg@10CI": quality["ndcg@10CI"],
                "exposureVsMerit": {
                    str(group): round(exposure_vs_merit(merit, groups == group, top), 4)
                    for group in sorted(set(groups.tolist()))
                },
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--caps", default="none,3,2,1,0", help="comma-separated years; none = the column as is")
    parser.add_argument("--attribute", default="leeftijd")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    caps = [None if c == "none" else float(c) for c in args.caps.split(",")]
    started = time.time()
    with np.load(args.cache, allow_pickle=False) as loaded:
        cache = {name: loaded[name] for name in loaded.files}
    result = {
        "command": f"WERKMATCH_DATA_DIR={os.environ.get('WERKMATCH_DATA_DIR')} python bench/experience_probe.py "
        f"--cache {args.cache} --caps {args.caps} --attribute {args.attribute}",
        "vacancies": int(len(np.unique(cache["vacancy_ids"]))),
        "rows": int(len(cache["labels"])),
        "caps": probe(cache, caps, args.attribute),
        "loadAverage": os.getloadavg(),
        "seconds": round(time.time() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result["caps"], indent=1))


if __name__ == "__main__":
    main()
