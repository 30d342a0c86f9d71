"""What every bench result JSON carries beside its numbers, and how it is written."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def provenance() -> dict[str, str]:
    """The commit the bench ran on and when (UTC, to the second)."""
    git = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    return {"git": git, "date": datetime.now(UTC).isoformat(timespec="seconds")}


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages, to two decimals (every timing is read beside the load it ran at)."""
    return [round(x, 2) for x in os.getloadavg()]


def write_json(path: Path, result: dict[str, Any]) -> None:
    """``result`` as indented JSON with a final newline (the form of every file in ``bench/results``)."""
    path.write_text(json.dumps(result, indent=2) + "\n")
