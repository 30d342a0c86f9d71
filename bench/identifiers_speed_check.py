"""matching/identifiers' extractor and negation-free text against a copy of an earlier version of the module: the same
answers on every text of data/eval and every record's BM25 text of a world, and the time per text of each.

Run: ``git show <commit>:matching/identifiers.py > /tmp/identifiers_old.py; WERKMATCH_DATA_DIR=<a copy of the demo
world> PYTHONPATH=. nice -n 12 .venv/bin/python bench/identifiers_speed_check.py /tmp/identifiers_old.py --out X.json``
(session 44: 0d48278's module, unchanged until then, before the prefilters of the phrase, chauffeur,
certificate-suffix and not-needed lookups). The machine is shared: the load average is recorded.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.cli.common import matcher, settings
from bench._result import load_average, provenance, write_json
from matching import identifiers

ROOT = Path(__file__).resolve().parents[1]


def _module(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location("identifiers_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["identifiers_before"] = module
    spec.loader.exec_module(module)
    return module


def _texts() -> list[str]:
    texts = [
        part
        for path in sorted((ROOT / "data" / "eval").glob("*.tsv"))
        for line in path.read_text(encoding="utf-8").splitlines()
        for part in line.split("\t")
        if part
    ]
    live = matcher(settings(), may_write=False, champion=False)
    live.index.catch_up()
    for side in ("clients", "vacancies"):
        state = live.index.sides[side]
        texts += list(state.lexical_texts.many(sorted(state.digests)).values())
    live.close()
    return texts


def _ms(call: Callable[[str], Any], texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        call(text)
    return round(1e3 * (time.perf_counter() - start) / len(texts), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    before, texts = _module(args.before), _texts()
    load = load_average()
    result = {
        "texts": len(texts),
        "negationFreeDiffer": sum(before.negation_free(text) != identifiers.negation_free(text) for text in texts),
        "identifiersDiffer": sum(before.identifiers(text) != identifiers.identifiers(text) for text in texts),
        "spansDiffer": sum(before.spans(text)[1] != identifiers.spans(text)[1] for text in texts),
        "msPerText": {
            "negationFreeBefore": _ms(before.negation_free, texts),
            "negationFree": _ms(identifiers.negation_free, texts),
            "identifiersBefore": _ms(before.identifiers, texts),
            "identifiers": _ms(identifiers.identifiers, texts),
        },
        "load_average_before": load,
        "load_average_after": load_average(),
        "provenance": provenance(),
    }
    write_json(args.out, result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
