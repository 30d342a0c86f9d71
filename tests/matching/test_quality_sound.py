"""``quality.assess``'s fast path for a sound profile (``quality._sound``) gives the verdicts of the full checks.

The full contradiction checks are the reference: each profile is assessed twice, once as shipped and once with
the fast path switched off, and the two :class:`~matching.quality.ProfileQuality` must be equal (the API JSON,
the signal codes and the missing fields). The profiles are the demo world's (the generator at the demo seed,
as stored rows) and stored rows changed one field at a time to values at and past the edges of sound, the way
an old import could have left them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest

from matching import quality
from matching.domain import Client, client_from_input
from matching.settings import Settings
from tests.factories import client_in
from training.synthetic import generate

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
NAN = float("nan")

# One field at a time: values a stored row may hold, sound ones and ones each check must flag or pass.
ODD_VALUES: dict[str, list[Any]] = {
    "trede": [0, 1, 2, 3, 4, 5, 6, -1, True, False, 2.0, "3", None],
    "route": ["werk", "perspectief", "meedoen", "vrije_val", "", None, 3],
    "taalniveau": ["B1", "b1", "A0", "", None, "Z9", 2],
    "opleidingsniveau": ["mbo2", "hbo", "", None, "universiteit", 7],
    "uren_min": [0, 8, 40, 41, -1, 0.5, -0.5, NAN, True, "8", None],
    "uren_max": [40, 1, 0, -3, 0.0, 7.5, NAN, True, "40", None],
    "competenties": [
        [],
        None,
        "geen lijst",
        [{"code": "lassen"}],
        [{"code": "lassen", "niveau": 1}, {"code": "koken", "niveau": 3.0}],
        [{"code": "lassen", "niveau": 2.5}],
        [{"code": "lassen", "niveau": 0}],
        [{"code": "lassen", "niveau": 4}],
        [{"code": "lassen", "niveau": True}],
        [{"code": "lassen", "niveau": "2"}],
        [{"code": "lassen", "niveau": NAN}],
        [{"code": "lassen", "niveau": None}],
        [{"code": " ", "niveau": 2}],
        [{"code": 12}],
        [{"niveau": 3}],
        [None, 3, "lassen"],
        [{"code": "lassen"}, {}],
    ],
    "werkervaring": [
        [],
        None,
        {"beroepCode": "kok"},
        [{"beroepCode": "kok", "jaren": 0}, {"beroepCode": "kok", "jaren": 60}],
        [{"beroepCode": "kok", "jaren": 60.5}],
        [{"beroepCode": "kok", "jaren": -1}],
        [{"beroepCode": "kok", "jaren": "5"}],
        [{"beroepCode": "kok", "jaren": True}],
        [{"beroepCode": "kok", "jaren": NAN}],
        [{"beroepCode": "kok"}],
        [{"beroep_code": "kok", "jaren": 3}],
        [{"beroepCode": " ", "jaren": 3}],
        [{"jaren": 4}],
        [None, 3],
    ],
    "wensen": [
        {},
        None,
        "geen wensen",
        {"beroepen": ["kok"], "maxReisafstandKm": 10, "maxReistijdMin": 30},
        {"maxReisafstandKm": 0},
        {"maxReisafstandKm": -5.5},
        {"max_reisafstand_km": 0},
        {"maxReisafstandKm": None, "max_reisafstand_km": 0},
        {"maxReisafstandKm": 10, "max_reisafstand_km": 0},
        {"maxReistijdMin": 0},
        {"max_reistijd_min": -1},
        {"maxReisafstandKm": True},
        {"maxReisafstandKm": "0"},
        {"maxReisafstandKm": NAN},
        {"werktijdenUitgesloten": ["nacht", "weekend"]},
        {"werktijdenUitgesloten": ["dag", "avond", "nacht", "weekend", "ploegendienst"]},
        {"werktijden_uitgesloten": ["dag", "avond", "nacht", "weekend", "ploegendienst"]},
        {"werktijdenUitgesloten": ["dag", "dag", "dag", "dag", "dag", "avond"]},
        {"werktijdenUitgesloten": "dag"},
        MappingProxyType({"maxReisafstandKm": 0}),  # a mapping that is no dict: the full checks read it
        {"werktijdenUitgesloten": None, "werktijden_uitgesloten": ["dag", "avond", "nacht", "weekend"]},
    ],
}


def stored(**overrides: Any) -> Client:
    """A complete, valid profile as a stored row, then changed the way an old import could have left it."""
    row = Client(**client_from_input(client_in()), updated_at=NOW - timedelta(days=10))
    for key, value in overrides.items():
        setattr(row, key, value)
    return row


def both_ways(client: Client, monkeypatch: pytest.MonkeyPatch) -> tuple[quality.ProfileQuality, ...]:
    """``assess`` as shipped, then with the fast path off (the full checks alone)."""
    fast = quality.assess(client, NOW)
    with monkeypatch.context() as patched:
        patched.setattr(quality, "_sound", lambda _client: False)
        full = quality.assess(client, NOW)
    return fast, full


def assert_same(fast: quality.ProfileQuality, full: quality.ProfileQuality) -> None:
    assert fast.to_json() == full.to_json()
    assert (fast.codes, fast.missing, fast.status) == (full.codes, full.missing, full.status)


def test_the_demo_worlds_profiles_get_the_same_verdicts(monkeypatch: pytest.MonkeyPatch) -> None:
    data = generate(3000, 0, Settings().demo_seed)
    rows = [
        Client(**client_from_input(item), updated_at=NOW - timedelta(days=days))
        for item, days in zip(data.clients, range(0, 3000 * 7, 7), strict=False)  # fresh to very stale
    ]
    for row in rows:
        assert_same(*both_ways(row, monkeypatch))
    assert sum(quality._sound(row) for row in rows) > 0.9 * len(rows)  # the fast path is the common case


EDGES = [(field, value) for field, values in ODD_VALUES.items() for value in values]


@pytest.mark.parametrize(("field", "value"), EDGES)
def test_values_at_and_past_the_edges_get_the_same_verdicts(
    field: str, value: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_same(*both_ways(stored(**{field: value}), monkeypatch))


def test_every_pair_of_hours_gets_the_same_verdicts(monkeypatch: pytest.MonkeyPatch) -> None:
    for low in ODD_VALUES["uren_min"]:
        for high in ODD_VALUES["uren_max"]:
            assert_same(*both_ways(stored(uren_min=low, uren_max=high), monkeypatch))


def test_combinations_of_contradictions_get_the_same_verdicts(monkeypatch: pytest.MonkeyPatch) -> None:
    combined = [
        {"trede": 5, "route": "meedoen", "uren_min": 32, "uren_max": 24},
        {"trede": 4, "route": "meedoen", "taalniveau": "Z9", "competenties": [{"niveau": 2}]},
        {"trede": 1, "route": "werk", "wensen": {"maxReisafstandKm": 0}, "werkervaring": [{"jaren": -1}]},
        {"uren_min": -2, "uren_max": 0, "opleidingsniveau": "universiteit"},
    ]
    for overrides in combined:
        fast, full = both_ways(stored(**overrides), monkeypatch)
        assert_same(fast, full)
        assert fast.status == quality.TEGENSTRIJDIG


def test_a_sound_profile_takes_the_fast_path_and_an_odd_one_the_full_checks() -> None:
    assert quality._sound(stored())
    assert not quality._sound(stored(uren_max=0))
    assert not quality._sound(stored(competenties=[{"code": "lassen", "niveau": True}]))
    assert not quality._sound(stored(trede=True))
