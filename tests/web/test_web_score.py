"""One score per pair in chromium (issue 18, item 3): candidate card, intake options and inbox agree.

A small world of consulent1's own clients (caseload wc-a) and two open vacancies. For every own client
on a vacancy's candidate page, the number on the card ("Kans op aanname N %") is the number in that
vacancy's row of the client's options at intake and on the inbox item an accountmanager's push made,
and the parts under "Waar de kans vandaan komt" (signed percentage points) add up to it from the
stated startpunt.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from api.app import create_app
from matching.matcher import Matcher
from matching.settings import RankerSettings, Settings
from tests.factories import make_client, make_vacancy
from tests.web.browser import ON_BOTH_DATABASES, check_accessibility, login, serve

pytestmark = pytest.mark.slow  # Chromium against a served app with an embedded world

SHOWN = re.compile(r"Kans op aanname (\d+)\s%")
START = re.compile(r"Een gemiddeld paar heeft (\d+)\s%")
PART = re.compile(r"([+\u2212]?)(\d+)$")


@pytest.fixture(scope="module")
def web_url(tmp_path_factory: pytest.TempPathFactory, embedder, web_database: str) -> Iterator[str]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("score") / "var",
        database_url=web_database,
        ranker=RankerSettings(poll_seconds=0),
    )
    matcher = Matcher(settings, embedder=embedder)
    with Session(matcher.engine) as session:
        make_client(session, client_nummer="K-S1", consulent="wc-a")
        make_client(
            session,
            client_nummer="K-S2",
            consulent="wc-a",
            competenties=[{"code": "schoonmaakwerk"}],
            werkervaring=[{"beroep_code": "schoonmaker", "jaren": 3}],
            zelfbeschrijving="Ik maak kantoren schoon.",
        )
        make_client(session, client_nummer="K-S3", consulent="wc-a", werkervaring=[], wensen={})
        make_vacancy(session, vacature_nummer="V-S1", titel="Orderpicker")
        make_vacancy(
            session,
            vacature_nummer="V-S2",
            titel="Schoonmaker",
            beroep_code="schoonmaker",
            omschrijving="Kantoren schoonmaken.",
            competenties_vereist=[{"code": "schoonmaakwerk"}],
            competenties_gewenst=[],
        )
    app = create_app(settings, matcher)
    for url in serve(app):
        assert matcher.wait_embedded(timeout=300), "embedding the test world did not finish"
        yield url


def card_scores(page: Any, vacancy: str) -> dict[str, int]:
    """Per client on the vacancy's candidate page: the score on the card, checked against its parts."""
    page.goto(f"/vacatures/{vacancy}?top=20#kandidaten")
    found = {}
    for card in page.locator("li.candidate").all():
        client = card.get_attribute("id").removeprefix("kandidaat-")
        [score] = SHOWN.findall(card.locator("ul.meta").inner_text())
        card.evaluate("card => card.querySelectorAll('details').forEach(d => { d.open = true; })")
        assert card.locator("summary", has_text="Waar de kans vandaan komt").is_visible()
        parts = [PART.search(item.inner_text().strip()) for item in card.locator("ul.score-parts > li").all()]
        assert parts and all(parts), card.inner_text()
        [start] = START.findall(card.inner_text())
        signed = [(-1 if part.group(1) == "\u2212" else 1) * int(part.group(2)) for part in parts]
        assert int(start) + sum(signed) == int(score), card.inner_text()
        found[client] = int(score)
    return found


def intake_score(page: Any, client: str, vacancy: str) -> int:
    page.goto(f"/klanten/{client}")
    row = page.locator("table tr", has=page.locator(f"a[href='/vacatures/{vacancy}']"))
    return int(row.locator("td").nth(2).inner_text().strip())


def inbox_scores(page: Any, vacancy: str) -> dict[str, int]:
    """Per client: the score on the consulent's open inbox item about ``vacancy``."""
    page.goto("/inbox")
    found = {}
    for item in page.locator("li.inbox-item", has=page.locator(f"a[href='/vacatures/{vacancy}']")).all():
        client = item.locator("a[href^='/klanten/']").first.inner_text().strip()
        [score] = SHOWN.findall(item.inner_text())
        found[client] = int(score)
    return found


def push(web_url: str, vacancy: str) -> None:
    """The accountmanager pushes ``vacancy`` to the consulenten of its three best candidates (the API)."""
    with httpx.Client(base_url=web_url, timeout=60) as http:
        token = http.post(
            "/api/v1/token", data={"username": "accountmanager", "password": "accountmanager-demo-wachtwoord"}
        ).json()["access_token"]
        response = http.post(
            f"/api/v1/vacatures/{vacancy}/push", json={"aantal": 3}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text


@ON_BOTH_DATABASES
def test_the_card_the_intake_and_the_inbox_show_the_same_score(new_page, web_url: str) -> None:
    page = new_page()
    login(page, "consulent1")
    compared = 0
    for vacancy in ("V-S1", "V-S2"):
        scores = card_scores(page, vacancy)
        assert set(scores) == {"K-S1", "K-S2", "K-S3"}
        assert all(0 <= score <= 100 for score in scores.values())
        if vacancy == "V-S2":
            check_accessibility(page, "kandidaten-score")
        for client, score in scores.items():
            assert intake_score(page, client, vacancy) == score, (client, vacancy)
            compared += 1
    assert compared == 6
    assert page.get_by_label("Minimale score (0 tot 100)").is_visible()  # saved searches: the same scale
    page.evaluate("() => document.querySelectorAll('table details').forEach(d => { d.open = true; })")
    check_accessibility(page, "klant-score")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the parts fit without sideways scrolling
    card_scores(page, "V-S2")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    push(web_url, "V-S2")
    assert inbox_scores(page, "V-S2") == scores  # the push carries the number the card shows
