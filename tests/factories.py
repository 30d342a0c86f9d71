"""Factories for test records: valid defaults, overridden per test (``make_client(session, trede=2)``)."""

from __future__ import annotations

import itertools
from typing import Any

from sqlmodel import Session

from matching.domain import Client, ClientIn, Vacancy, VacancyIn
from matching.store import upsert_client, upsert_vacancy

_numbers = itertools.count(1)


def client_in(**overrides: Any) -> ClientIn:
    data: dict[str, Any] = {
        "client_nummer": f"K{next(_numbers):07d}",
        "consulent": "consulent-a",
        "trede": 4,
        "route": "werk",
        "postcode": "6811AB",
        "competenties": [{"code": "orderpicken", "niveau": 2}, {"code": "samenwerken"}],
        "werkervaring": [{"beroep_code": "orderpicker", "jaren": 3}],
        "opleidingsniveau": "mbo2",
        "taalniveau": "B1",
        "vervoermiddel": ["fiets"],
        "uren_min": 24,
        "uren_max": 36,
        "wensen": {"beroepen": ["orderpicker"], "sectoren": ["logistiek"], "max_reisafstand_km": 15},
        "zelfbeschrijving": "Ik heb in een magazijn gewerkt en wil weer aan de slag.",
    }
    data.update(overrides)
    return ClientIn.model_validate(data)


def vacancy_in(**overrides: Any) -> VacancyIn:
    data: dict[str, Any] = {
        "vacature_nummer": f"V{next(_numbers):07d}",
        "bron": "WSP",
        "werkgever": "Logistiek Arnhem BV",
        "titel": "Orderpicker",
        "beroep_code": "orderpicker",
        "omschrijving": "Orders verzamelen in een distributiecentrum.",
        "postcode": "6827",
        "uren_min": 24,
        "uren_max": 38,
        "werktijden": ["dag"],
        "belasting": [{"aspect": "tillen", "niveau": 2}],
        "competenties_vereist": [{"code": "orderpicken"}],
        "competenties_gewenst": [{"code": "heftruck_rijden"}],
        "plaatsingsvorm": "regulier",
    }
    data.update(overrides)
    return VacancyIn.model_validate(data)


def make_client(session: Session, **overrides: Any) -> Client:
    row, _ = upsert_client(session, client_in(**overrides))
    session.commit()
    return row


def make_vacancy(session: Session, **overrides: Any) -> Vacancy:
    row, _ = upsert_vacancy(session, vacancy_in(**overrides))
    session.commit()
    return row


def login(http: Any, username: str, password: str | None = None) -> dict[str, str]:
    """The bearer header for a (demo) user, through ``POST /api/v1/token`` of a TestClient."""
    response = http.post(
        "/api/v1/token", data={"username": username, "password": password or f"{username}-demo-wachtwoord"}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def simulated_world(data_dir: Any, embedder: Any) -> tuple[Any, Any]:
    """Settings and a synced Matcher over 500 clients, 200 vacancies and two simulated years of voorstellen.

    Seed 11; the champion watcher is off (``poll_seconds=0``). For tests of training, the registry and promotion.
    """
    from matching.matcher import Matcher
    from matching.settings import RankerSettings, Settings
    from training.outcome_sim import SimulationSettings, simulate, write_history
    from training.synthetic import generate, write_to_db

    settings = Settings(data_dir=data_dir, ranker=RankerSettings(poll_seconds=0))
    matcher = Matcher(settings, embedder=embedder)
    write_to_db(matcher.engine, generate(500, 200, seed=11), progress=False)
    write_history(matcher.engine, simulate(matcher.engine, SimulationSettings(years=2), seed=11))
    matcher.sync()
    return settings, matcher
