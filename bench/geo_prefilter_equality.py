"""The geographic prefilter on the demo world: every list equal to the plain pass over every record.

Run (a copy of the demo world, read only):

    WERKMATCH_DATA_DIR=/tmp/wm-copy .venv/bin/python bench/geo_prefilter_equality.py \
        bench/results/national-search-demo-equality.json

For every open vacancy its top 50 candidates (as the service sees them), for a sample also with
heleBestand and as one consulent with a caseload; for every third client its top 50 vacancies. Each
list is made with ``matcher.prefilter`` off and on and compared whole (results, counts, "niet getoond").
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from sqlmodel import Session, select

from matching.disclosure import EVERYONE, Viewer
from matching.domain import Client
from matching.hard_filters import NO_FILTERS, CandidateFilters
from matching.matcher import Matcher
from matching.settings import Settings

logger = logging.getLogger("geo_prefilter_equality")
TOP = 50
SAMPLE = 300


def compare(matcher: Matcher, search, refs: list[int]) -> dict[str, object]:
    """How many of ``refs`` give the same list both ways, the ones that do not, and the seconds each way."""
    differing, seconds = [], {False: 0.0, True: 0.0}
    for ref in refs:
        found = {}
        for prefilter in (False, True):
            matcher.prefilter = prefilter
            start = time.perf_counter()
            found[prefilter] = search(ref)
            seconds[prefilter] += time.perf_counter() - start
        if found[True] != found[False]:
            differing.append(ref)
    matcher.prefilter = True
    return {
        "lists": len(refs),
        "identical": len(refs) - len(differing),
        "differing": differing[:20],
        "meanMsWithout": round(seconds[False] / max(len(refs), 1) * 1000, 1),
        "meanMsWith": round(seconds[True] / max(len(refs), 1) * 1000, 1),
    }


def main(out: Path) -> None:
    logging.basicConfig(level=logging.INFO)
    matcher = Matcher(Settings(), may_write=False)
    matcher.sync()
    clients, vacancies = matcher.index.arrays()
    with Session(matcher.engine) as session:
        caseload = sorted({code for code in session.exec(select(Client.consulent)) if code})[0]
    rng = np.random.default_rng(0)
    open_ids = vacancies.ids[vacancies.open].tolist()
    sample = sorted(rng.choice(open_ids, size=min(SAMPLE, len(open_ids)), replace=False).tolist())
    whole, own = CandidateFilters(whole_bestand=True), Viewer(caseload=caseload)
    result = {
        "command": f"WERKMATCH_DATA_DIR=<copy of /tmp/wm-demo> .venv/bin/python bench/geo_prefilter_equality.py {out}",
        "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
        "clients": len(clients.ids),
        "vacancyCount": len(vacancies.ids),
        "top": TOP,
        "candidates": compare(matcher, lambda ref: matcher.search_candidates(ref, TOP, filters=NO_FILTERS), open_ids),
        "candidatesHeleBestand": compare(
            matcher, lambda ref: matcher.search_candidates(ref, TOP, filters=whole), sample
        ),
        "candidatesOwnCaseload": compare(matcher, lambda ref: matcher.search_candidates(ref, TOP, viewer=own), sample),
        "options": compare(
            matcher, lambda ref: matcher.search_vacancies(ref, TOP, viewer=EVERYONE), clients.ids[::3].tolist()
        ),
    }
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    logger.info("written %s", out)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
