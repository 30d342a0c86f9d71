"""Gemeenten as tenants in chromium (issue 14, item 3), on a real PostgreSQL served as in production.

One region: Duiven (consulent ``wc-duiven``, two clients of the own caseload) and Zevenaar (one client of
``wc-zevenaar`` with a name, a beperking and a postcode in Zevenaar), and one regional WSP vacancy in
Duiven. The database was migrated by the table owner; the app connects as the service role, so row-level
security holds the boundary. A Duiven consulent sees the Zevenaar client nowhere by number, name or
beperking: the client page is the "niet gevonden" page of an unknown client, the candidate list shows a
pseudonymised summary with a distance band; the regional accountmanager sees pseudonyms only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session

from api.app import create_app
from api.services import users
from api.services.users import Rol
from matching.domain import ClientPersonalia
from matching.matcher import Matcher
from matching.settings import RankerSettings, Settings
from tests.factories import make_client, make_vacancy
from tests.postgres import PostgresServer
from tests.web.browser import check_accessibility, login, serve

pytestmark = pytest.mark.slow  # Chromium against a served app on PostgreSQL

VACANCY = "WSP-REGIO-WEB"
OWN = ("K-DUI-1", "K-DUI-2")
FOREIGN = "K-ZEV-1"
SECRETS = ("Zevenhuizen", "Zoë", "Nekklachten-ZEV-GEHEIM")  # the Zevenaar client's name and beperking text
BSN_LIKE = re.compile(r"\b\d{9}\b")
BAND = re.compile(r"^(\d+–\d+ km|meer dan \d+ km)$")


def _region(session: Session) -> None:
    for number in OWN:
        client = make_client(session, client_nummer=number, consulent="wc-duiven", gemeente="Duiven", postcode="6921AB")
        session.add(ClientPersonalia(client_id=client.id, voornaam="Daan", achternaam="Duivenvoorde"))
    foreign = make_client(
        session,
        client_nummer=FOREIGN,
        consulent="wc-zevenaar",
        gemeente="Zevenaar",
        postcode="6901AB",
        beperkingen=[{"aspect": "tillen", "ernst": 2, "toelichting": SECRETS[2]}],
    )
    session.add(ClientPersonalia(client_id=foreign.id, voornaam=SECRETS[1], achternaam=SECRETS[0]))
    users.create_user(
        session, "wc-duiven", "wc-duiven-demo-wachtwoord", Rol.WERKCONSULENT, "wc-duiven", gemeente="Duiven"
    )
    session.commit()
    make_vacancy(session, vacature_nummer=VACANCY, titel="Orderpicker", postcode="6921")


@pytest.fixture(scope="module")
def web_url(tmp_path_factory: pytest.TempPathFactory, embedder, postgres: PostgresServer) -> Iterator[str]:
    with postgres.service_database() as (_owner_url, service_url):
        data_dir = tmp_path_factory.mktemp("regio") / "var"
        settings = Settings(data_dir=data_dir, database_url=service_url, ranker=RankerSettings(poll_seconds=0))
        matcher = Matcher(settings, embedder=embedder)
        with Session(matcher.engine) as session:
            _region(session)
        for url in serve(create_app(settings, matcher)):
            assert matcher.wait_embedded(timeout=300), "embedding the test world did not finish"
            yield url
        matcher.engine.dispose()


def _assert_hidden(text: str) -> None:
    """Nothing that identifies the Zevenaar client: no number, name, beperking or BSN-like number."""
    for secret in (FOREIGN, *SECRETS):
        assert secret not in text, secret
    assert not BSN_LIKE.search(text), BSN_LIKE.search(text)


def test_another_gemeentes_client_page_is_the_page_of_an_unknown_client(new_page) -> None:
    page = new_page()
    login(page, "wc-duiven")
    own = page.goto(f"/klanten/{OWN[0]}")
    assert own.status == 200 and page.title() == f"Klant {OWN[0]} – werkmatch"  # the control: the page works

    unknown = page.goto("/klanten/K-BESTAAT-NIET")
    unknown_seen = unknown.status, page.title(), page.locator("main").inner_text()
    foreign = page.goto(f"/klanten/{FOREIGN}")
    foreign_seen = foreign.status, page.title(), page.locator("main").inner_text()
    assert foreign_seen == unknown_seen and foreign.status == 404, foreign_seen
    assert page.get_by_role("heading", level=1).inner_text() == "Niet gevonden"
    assert "bestaat niet, of hoort bij de caseload van een andere consulent" in foreign_seen[2]
    _assert_hidden(page.content())
    check_accessibility(page, "klant-andere-gemeente")

    page.goto("/klanten")  # the own caseload: Duiven's clients, nobody of Zevenaar
    assert sorted(page.locator("tbody tr td:first-child").all_inner_texts()) == sorted(OWN)
    _assert_hidden(page.content())


def _cards(page: Any) -> dict[str, str]:
    """The candidate cards of the list on ``page``: {the number or pseudonym in the heading: the card's text}."""
    cards = page.locator("ol.candidates li.candidate")
    found = {}
    for index in range(cards.count()):
        card = cards.nth(index)
        found[card.locator("h4").inner_text().split()[1]] = card.inner_text()
    return found


def _distance(card: Any) -> str:
    return card.locator("ul.meta > li").nth(3).inner_text().strip()


def test_a_consulent_sees_another_gemeentes_candidate_as_a_pseudonymised_summary(new_page) -> None:
    page = new_page()
    login(page, "wc-duiven")
    page.goto(f"/vacatures/{VACANCY}?eigen=nee")
    cards = _cards(page)
    assert set(OWN) < set(cards) and len(cards) == 3, list(cards)
    [pseudonym] = set(cards) - set(OWN)
    assert pseudonym.startswith("P-"), pseudonym
    summary = cards[pseudonym]
    assert "Klant uit een andere gemeente: alleen de eigen consulent ziet wie het is." in summary
    assert "eigen klant" not in summary and "beperking" not in summary.lower()
    distance = _distance(page.locator("li.candidate", has_text=pseudonym))
    assert BAND.match(distance), distance  # a band, never kilometres
    assert re.search(r"\d,\d km", _distance(page.locator("li.candidate", has_text=OWN[0]))), "own: kilometres"
    _assert_hidden(page.locator("main").inner_text())
    _assert_hidden(page.content())


def test_the_regional_accountmanager_sees_pseudonyms_only(new_page) -> None:
    page = new_page()
    login(page, "accountmanager")
    page.goto(f"/vacatures/{VACANCY}")
    cards = _cards(page)
    assert len(cards) == 3 and all(name.startswith("P-") for name in cards), list(cards)
    main = page.locator("main").inner_text()
    assert not re.search(r"\bK-(DUI|ZEV)-\d", main), "a klantnummer on the accountmanager's list"
    for name in cards:
        assert BAND.match(_distance(page.locator("li.candidate", has_text=name))), cards[name]
    assert "Duivenvoorde" not in page.content()
    _assert_hidden(page.content())
    check_accessibility(page, "kandidaten-regio-accountmanager")
