"""PC4 geography: real centroids, distances and travel-time estimates."""

from __future__ import annotations

import pytest

from matching import geo


def test_normalise_postcode() -> None:
    assert geo.normalise_postcode("6811 ab") == "6811AB"
    assert geo.normalise_postcode(" 6811") == "6811"
    assert geo.normalise_postcode("0811AB") is None
    assert geo.normalise_postcode("68111") is None


def test_real_pc4_areas_exist_and_fake_ones_do_not() -> None:
    assert geo.pc4_exists("6811")  # Arnhem centrum
    assert not geo.pc4_exists("1000")
    assert geo.load_pc4().place("6811") == "Arnhem"
    assert len(geo.load_pc4().codes) > 4000


def test_distance_arnhem_nijmegen_is_about_16_km() -> None:
    # Arnhem centre to Nijmegen centre is ~16 km as the crow flies.
    assert 13 < geo.distance_km("6811", "6511") < 19
    assert geo.distance_km("6811", "6811") == pytest.approx(0.0)


def test_travel_time_orders_modes() -> None:
    assert geo.travel_minutes(10.0, "lopen") > geo.travel_minutes(10.0, "fiets") > geo.travel_minutes(10.0, "auto")
    assert geo.fastest_mode([]) == geo.DEFAULT_MODE
    assert geo.fastest_mode(["fiets", "auto"]) == "auto"
