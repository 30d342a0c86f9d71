"""Vacancies by place, one completeness verdict and one list of reasons, in chromium (issue 18, items 7, 8 and 9).

One world for the module: orderpicker vacancies in Arnhem, Velp (1.8 km from Arnhem) and Amsterdam, a
kok in Arnhem; consulent1's clients K-HEEL (complete), K-BIJNA (in orde, 85 %: no self-description,
no transport) and K-LEEG (onvolledig), and one voorstel so that the status form is on /voorstellen.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session

from api.app import create_app
from matching.matcher import Matcher
from matching.outcomes import propose
from matching.settings import RankerSettings, Settings
from tests.factories import make_client, make_vacancy
from tests.oracles import health_words
from tests.web.browser import ON_BOTH_DATABASES, check_accessibility, login, serve

pytestmark = pytest.mark.slow  # Chromium against a served app: ≈ 20 s

SOURCE = "https://szeebra.example/klant/{klantnummer}"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, web_database: str) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("plaats") / "var",
        database_url=web_database,
        ranker=RankerSettings(poll_seconds=0),
        bronsysteem_url=SOURCE,
    )


@pytest.fixture(scope="module")
def web_url(settings: Settings, embedder) -> Iterator[str]:
    matcher = Matcher(settings, embedder=embedder)
    with Session(matcher.engine) as session:
        for number, titel, werkgever, postcode in (
            ("V-ARN-OP", "Orderpicker", "Distributie Oost", "6827AB"),
            ("V-ARN-KOK", "Kok", "Restaurant De Rijn", "6811"),
            ("V-VELP-OP", "Orderpicker", "Magazijn Oost BV", "6881"),
            ("V-AMS-OP", "Orderpicker", "Haven Logistiek", "1011"),
        ):
            make_vacancy(session, vacature_nummer=number, titel=titel, werkgever=werkgever, postcode=postcode)
        make_client(session, client_nummer="K-HEEL", consulent="wc-a")
        make_client(session, client_nummer="K-BIJNA", consulent="wc-a", zelfbeschrijving="", vervoermiddel=[])
        make_client(session, client_nummer="K-LEEG", consulent="wc-a", competenties=[], werkervaring=[])
        propose(session, "K-HEEL", "V-AMS-OP", "consulent1", "consulent")
        session.commit()
    for url in serve(create_app(settings, matcher)):
        assert matcher.wait_embedded(timeout=300), "embedding the test world did not finish"
        yield url


def _search(page: Any, **fields: str) -> list[str]:
    page.goto("/vacatures")
    for label, value in fields.items():
        page.locator(f"#{label}").fill(value)
    page.get_by_role("button", name="Zoeken").click()
    page.wait_for_load_state()
    return [row.inner_text() for row in page.locator("table.table tbody tr").all()]


@ON_BOTH_DATABASES
def test_vacancies_are_found_by_place_and_by_distance_with_the_place_shown(new_page) -> None:
    page = new_page()
    login(page, "consulent1")
    rows = _search(page, zoek="orderpicker Arnhem")
    assert len(rows) == 1 and "V-ARN-OP" in rows[0] and "Arnhem" in rows[0], rows
    assert page.get_by_role("columnheader", name="Plaats", exact=True).count() == 1

    rows = _search(page, zoek="orderpicker binnen 5 km van arnhem")
    assert sorted(row.split()[0] for row in rows) == ["V-ARN-OP", "V-VELP-OP"], rows
    velp = next(row for row in rows if "V-VELP-OP" in row)
    assert "Velp" in velp and "1,8 km" in velp  # the distance to the nearest Arnhem postcode, decimal comma
    assert "binnen 5 km van Arnhem" in page.get_by_role("status").first.inner_text()
    for selector in ("td.nowrap a", "td.nowrap:has-text('uur')"):  # a number and an hour range stay on one line
        lines = page.locator(selector).first.evaluate(
            "el => { const r = document.createRange(); r.selectNodeContents(el);"
            " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }"
        )
        assert lines == 1, selector
    check_accessibility(page, "vacatures-binnen-5-km")

    _search(page, plaats="Arnhm", straalKm="7,5")
    error = page.locator("#plaats-fout")
    assert "'Arnhm' ken ik niet als plaats; bedoelt u Arnhem?" in error.inner_text()
    assert page.locator("#plaats").get_attribute("aria-invalid") == "true"
    check_accessibility(page, "vacatures-onbekende-plaats")


def _chip(locator: Any) -> str:
    return re.sub(r"\s+", " ", locator.locator(".chip", has_text="Gegevens:").first.inner_text()).strip()


@ON_BOTH_DATABASES
def test_one_client_has_the_same_verdict_and_number_on_every_page(new_page) -> None:
    page = new_page()
    login(page, "consulent1")
    page.goto("/klanten")
    in_list = {number: _chip(page.locator("tr", has_text=number)) for number in ("K-HEEL", "K-BIJNA", "K-LEEG")}
    assert in_list == {
        "K-HEEL": "Gegevens: in orde (100%)",
        "K-BIJNA": "Gegevens: in orde (85%)",
        "K-LEEG": "Gegevens: onvolledig (65%)",
    }
    assert "aan te vullen: vervoermiddel, zelfbeschrijving" in page.locator("tr", has_text="K-BIJNA").inner_text()
    assert "Onvolledig" not in page.locator("tr", has_text="K-BIJNA").inner_text()

    page.goto("/klanten/datakwaliteit")
    assert _chip(page.locator("tr", has_text="K-LEEG")) == in_list["K-LEEG"]
    assert page.locator("tr", has_text="K-BIJNA").count() == 0  # in orde: not a profile that needs attention

    page.goto("/vacatures/V-ARN-OP")
    card = page.locator("li.candidate", has_text="K-BIJNA")
    assert _chip(card) == in_list["K-BIJNA"]

    for number in ("K-BIJNA", "K-LEEG"):
        page.goto(f"/klanten/{number}")
        assert _chip(page.locator("#kwaliteit-kop + p")) == in_list[number]
    fields = page.locator("#matchgegevens").inner_text()
    for label in ("Werkervaring", "Reisafstand", "Vervoer", "Competenties", "Gewenste beroepen", "Taalniveau"):
        assert label in fields, label
    assert "hoogstens 15 km" in fields
    check_accessibility(page, "klant-gegevens")


def test_the_client_page_links_to_the_source_system_only_when_one_is_set(new_page, settings: Settings) -> None:
    page = new_page()
    login(page, "consulent1")
    page.goto("/klanten/K-BIJNA")
    link = page.get_by_role("link", name=re.compile("Gegevens aanpassen in het bronsysteem"))
    assert link.get_attribute("href") == "https://szeebra.example/klant/K-BIJNA"
    settings.bronsysteem_url = ""  # the running app reads the same object
    try:
        page.reload()
        assert page.get_by_role("link", name=re.compile("bronsysteem")).count() == 0
    finally:
        settings.bronsysteem_url = SOURCE


def test_no_reason_list_in_a_web_form_offers_a_health_reason(new_page) -> None:
    page = new_page()
    login(page, "consulent1")
    offered: dict[str, list[str]] = {}
    for path in ("/vacatures/V-ARN-OP", "/voorstellen", "/inbox"):
        page.goto(path)
        for select in page.locator("select[name=reden]").all():
            texts = select.locator("option").evaluate_all("os => os.map(o => o.value + ' ' + o.textContent)")
            offered.setdefault(path, []).extend(texts)
    assert offered.get("/vacatures/V-ARN-OP") and offered.get("/voorstellen"), offered  # the check saw lists
    for path, options in offered.items():
        for option in options:
            assert not health_words(option), (path, option)
