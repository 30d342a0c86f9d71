"""Dutch postcode geography: PC4 centroids (GeoNames, CC BY 4.0), distances and travel-time estimates.

Travel time is an estimate from straight-line distance, not a route planner: road distance is taken
as 1.3 × the straight line (a common detour factor for Dutch road networks) and each mode has an
effective door-to-door speed plus a fixed overhead (waiting for the bus, parking):

=========  ==========  ==========
mode       km/h        overhead
=========  ==========  ==========
lopen      5           0 min
fiets      15          0 min
scooter    25          2 min
ov         20          10 min
auto       40          5 min
=========  ==========  ==========
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from matching.reference import PC4_FILE

DETOUR_FACTOR = 1.3
EARTH_RADIUS_KM = 6371.0
MODE_SPEED_KMH = {"lopen": 5.0, "fiets": 15.0, "scooter": 25.0, "ov": 20.0, "auto": 40.0}
MODE_OVERHEAD_MIN = {"lopen": 0.0, "fiets": 0.0, "scooter": 2.0, "ov": 10.0, "auto": 5.0}
# A client who states no transport is assumed to cycle or walk: the conservative Dutch default.
DEFAULT_MODE = "fiets"

POSTCODE = re.compile(r"^\s*([1-9]\d{3})\s*([A-Za-z]{2})?\s*$")


@dataclass(frozen=True)
class Pc4Table:
    codes: tuple[str, ...]
    places: tuple[str, ...]
    coords: np.ndarray  # (n, 2) latitude, longitude in degrees
    position: dict[str, int]

    def coordinates(self, pc4: str) -> tuple[float, float]:
        lat, lon = self.coords[self.position[pc4]]
        return float(lat), float(lon)

    def place(self, pc4: str) -> str:
        return self.places[self.position[pc4]]


@lru_cache(maxsize=4)
def load_pc4(path: Path = PC4_FILE) -> Pc4Table:
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    codes = tuple(row["pc4"] for row in rows)
    coords = np.array([[float(row["lat"]), float(row["lon"])] for row in rows], dtype=np.float64)
    return Pc4Table(codes, tuple(row["plaats"] for row in rows), coords, {c: i for i, c in enumerate(codes)})


def normalise_postcode(value: str) -> str | None:
    """``"6811 ab"`` → ``"6811AB"``; ``"6811"`` → ``"6811"``; anything else → ``None``."""
    match = POSTCODE.match(value or "")
    if not match:
        return None
    return match.group(1) + (match.group(2) or "").upper()


def pc4_exists(pc4: str) -> bool:
    return pc4 in load_pc4().position


def coordinates(postcode: str) -> tuple[float, float]:
    return load_pc4().coordinates(postcode[:4])


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km; broadcasts over arrays of degrees."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(a, dtype=np.float64)) for a in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def distance_km(postcode_a: str, postcode_b: str) -> float:
    (lat1, lon1), (lat2, lon2) = coordinates(postcode_a), coordinates(postcode_b)
    return float(haversine_km(lat1, lon1, lat2, lon2))


def travel_minutes(distance: np.ndarray | float, mode: str) -> np.ndarray | float:
    """Estimated door-to-door minutes for a straight-line distance in km by one transport mode."""
    road_km = np.asarray(distance) * DETOUR_FACTOR
    minutes = road_km / MODE_SPEED_KMH[mode] * 60.0 + MODE_OVERHEAD_MIN[mode]
    return minutes if isinstance(distance, np.ndarray) else float(minutes)


def fastest_mode(modes: list[str]) -> str:
    """The fastest of a client's transport modes over a typical 10 km trip (the default when none given)."""
    usable = [mode for mode in modes if mode in MODE_SPEED_KMH] or [DEFAULT_MODE]
    return min(usable, key=lambda mode: travel_minutes(10.0, mode))
