"""How close the fine-tune pairs come to the evaluation sets (issue 19: no evaluation pair in training).

Three checks, the exact command in the output:

1. the training file exactly as ``werkmatch embeddings finetune`` writes it (the first ``--max-pairs``
   rows of :func:`training.finetune_pairs.build_pairs`, seed 0) read back through
   :func:`training.finetune_pairs.read_training_pairs`, the pair loader's leak check against every
   pairs file in data/eval (it raises on a leak);
2. per evaluation file, its queries and documents that equal (case and white space aside) a text the
   generator makes *before* its own filter drops evaluation texts;
3. for the sets named by ``--near`` (default ``nl_cv``, ``nl_titels``, ``nl_vaktermen``, ``nl_sjablonen``), the
   largest token Jaccard of each query against any generated text and of each document against any generated
   document, and the closest rows.

    nice -n 10 .venv/bin/python bench/eval_overlap.py > bench/results/embeddings-eval-overlap-s27.json
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
from pathlib import Path

from matching.taxonomy import load_taxonomy
from training.embedding_eval import _key, numbered_pairs, pair_files, write_pairs
from training.finetune_pairs import EVAL_DIR, build_pairs, read_training_pairs, taxonomy_pairs, vacancy_pairs

COMMAND = "nice -n 10 .venv/bin/python bench/eval_overlap.py > bench/results/embeddings-eval-overlap-s27.json"
VACANCIES = 1200  # build_pairs' default
WORD = re.compile(r"\w+")


def _tokens(text: str) -> frozenset[str]:
    return frozenset(WORD.findall(text.lower()))


def _closest(tokens: frozenset[str], pool: list[frozenset[str]]) -> float:
    return max((len(tokens & other) / len(tokens | other) for other in pool if tokens | other), default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-pairs", type=int, default=640)
    parser.add_argument("--near", nargs="*", default=["nl_cv", "nl_titels", "nl_vaktermen", "nl_sjablonen"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        training = Path(folder) / "pairs-seed0.tsv"
        write_pairs(training, [(pair.query, pair.document) for pair in build_pairs(seed=0)[: args.max_pairs]])
        checked = len(read_training_pairs(training))  # raises ImportFileError on a leak
    taxonomy = load_taxonomy()
    rnd = random.Random(0)  # as build_pairs draws them
    raw = [*taxonomy_pairs(taxonomy, rnd), *vacancy_pairs(taxonomy, VACANCIES, 0, rnd)]
    raw_queries, raw_documents = {_key(p.query) for p in raw}, {_key(p.document) for p in raw}
    query_pool = [_tokens(p.query) for p in raw] + [_tokens(p.document) for p in raw]
    document_pool = [_tokens(p.document) for p in raw]
    files = {}
    for path in pair_files([EVAL_DIR]):
        rows = numbered_pairs(path)
        one = {
            "pairs": len(rows),
            "queriesEqualToGenerated": [line for line, query, _ in rows if _key(query) in raw_queries],
            "documentsEqualToGenerated": [line for line, _, document in rows if _key(document) in raw_documents],
        }
        if path.name.rsplit("_", 1)[0] in args.near:
            near = [
                (line, round(_closest(_tokens(q), query_pool), 3), round(_closest(_tokens(d), document_pool), 3), q)
                for line, q, d in rows
            ]
            one["maxJaccardQuery"] = max(row[1] for row in near)
            one["maxJaccardDocument"] = max(row[2] for row in near)
            one["closest"] = [
                {"line": line, "query": q, "jaccardQuery": jq, "jaccardDocument": jd}
                for line, jq, jd, q in sorted(near, key=lambda row: -max(row[1], row[2]))[:3]
            ]
        files[path.name] = one
    result = {
        "command": COMMAND,
        "trainingPairsPassLeakCheck": checked,
        "generatedBeforeFilter": len(raw),
        "files": files,
    }
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
