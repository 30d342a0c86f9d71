"""Issue 19 item 4: the adoption rule on the measured numbers of the fine-tuned e5 (session 26).

``training.finetune.adoption`` on: the fine-tuned model's held-out halves
(``finetune-sweep-final-heldout.json``) and ESCO tuning half (``finetune-sweep-plain-20.json``), the
engine's from ``embeddings-eval-s26.json``, the first start as the conversion
(``finetune-conversion.json``) plus the fine-tune run (``finetune-run-s26.json``), once with its wall
time on the loaded shared machine and once with its CPU time. → ``finetune-adoption-s26.json``

    .venv/bin/python bench/finetune_adoption.py
"""

from __future__ import annotations

import json
from pathlib import Path

from training.finetune import adoption

R = Path(__file__).resolve().parent / "results"


def _read(name: str) -> dict:
    return json.loads((R / name).read_text(encoding="utf-8"))


def main() -> None:
    engine_all = {Path(s["file"]).name: s["results"]["dense"]["mrr"] for s in _read("embeddings-eval-s26.json")["sets"]}
    measured = {**_read("finetune-sweep-final-heldout.json")["dense"], **_read("finetune-sweep-plain-20.json")["dense"]}
    engine = {k: v for k, v in engine_all.items() if k.endswith("_heldout.tsv") or k.startswith("esco")}
    candidate = {k: measured[k] for k in engine}
    convert = _read("finetune-conversion.json")["convertSeconds"]
    process = _read("finetune-run-s26.json")["process"]
    cpu = round(process["userSeconds"] + process["systemSeconds"], 1)
    out = {
        "command": ".venv/bin/python bench/finetune_adoption.py",
        "engine": engine,
        "candidate": candidate,
        "firstStart": {
            "convertSeconds": convert,
            "finetuneWallSecondsLoaded": process["wallSeconds"],
            "finetuneCpuSeconds": cpu,
        },
        "adoptionWithWallTimeUnderLoad": adoption(engine, candidate, convert + process["wallSeconds"]),
        "adoptionWithCpuTime": adoption(engine, candidate, convert + cpu),
        "goalNlPairsHeldout080": candidate["nl_pairs_heldout.tsv"] >= 0.80,
    }
    (R / "finetune-adoption-s26.json").write_text(
        json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(json.dumps(out, indent=2, ensure_ascii=False))  # noqa: T201


if __name__ == "__main__":
    main()
