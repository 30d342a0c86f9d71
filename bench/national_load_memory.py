"""Memory of merely loading the national matcher (issue 16, items 3 and 5): what ``werkmatch train`` pays
before its first feature, and what a serving process holds before its first search.

Opens a :class:`matching.matcher.Matcher` as a reader (``may_write=False``: it writes no index file)
on a data directory, syncs it (the saved vectors, every record read for digests, BM25 and arrays) and
prints this process's resident memory (``VmRSS``) and its high-water mark (``VmHWM``) from
``/proc/self/status``, with the seconds it took, as one JSON line. Run on a copy of the national world::

    cp -a /tmp/wm-h10/bench-400000 /tmp/wm-x/national
    flock /tmp/bigmem.lock .venv/bin/python bench/national_load_memory.py /tmp/wm-x/national
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from matching.matcher import Matcher
from matching.settings import Settings


def status_mb() -> dict[str, int]:
    """VmRSS and VmHWM of this process in MB (Linux)."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = round(int(value.split()[0]) / 1024)
    return out


def main(data_dir: Path) -> dict[str, object]:
    before = status_mb()
    start = time.perf_counter()
    matcher = Matcher(Settings(data_dir=data_dir), may_write=False)
    matcher.sync()
    clients, vacancies = matcher.index.arrays()
    seconds = time.perf_counter() - start
    return {
        "dataDir": str(data_dir),
        "clients": len(clients.ids),
        "vacancies": len(vacancies.ids),
        "toEmbed": matcher.index.pending(),
        "beforeMb": before,
        "loadedMb": status_mb(),
        "loadSeconds": round(seconds, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
