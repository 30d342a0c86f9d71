"""The web UI's journeys in chromium: explained candidates → voorstel or afwijzing, push → inbox, role limits,
data quality and saved searches, forms, axe.

One world for the module: five clients (three of consulent1's caseload wc-a in three Arnhem PC4
areas, two of consulent2's wc-b; K-W1 has a beperking on tillen, K-W3 no competenties) and a few
vacancies, each test on its own vacancy.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from api.app import create_app
from matching.matcher import Matcher
from matching.settings import RankerSettings, Settings
from tests.factories import make_client, make_vacancy
from tests.web.browser import ON_BOTH_DATABASES, check_accessibility, login, serve

pytestmark = pytest.mark.slow  # Chromium against a served app: ≈ 25 s

OWN = ("K-W1", "K-W2", "K-W3")
OTHER = ("K-B1", "K-B2")
BEPERKING = [{"aspect": "tillen", "ernst": 2, "toelichting": "Rugklachten-GEHEIM"}]


@pytest.fixture(scope="module")
def web_url(tmp_path_factory: pytest.TempPathFactory, embedder, web_database: str) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("web") / "var"
    settings = Settings(data_dir=data_dir, database_url=web_database, ranker=RankerSettings(poll_seconds=0))
    matcher = Matcher(settings, embedder=embedder)
    with Session(matcher.engine) as session:
        make_client(session, client_nummer="K-W1", consulent="wc-a", beperkingen=BEPERKING, opleidingsniveau=None)
        make_client(session, client_nummer="K-W2", consulent="wc-a", postcode="6836AB")
        make_client(session, client_nummer="K-W3", consulent="wc-a", postcode="6822AB", competenties=[])
        for number in OTHER:
            make_client(session, client_nummer=number, consulent="wc-b")
        make_vacancy(session, vacature_nummer="V-WEB1", titel="Orderpicker dagdienst")
        make_vacancy(session, vacature_nummer="V-PUSH", titel="Magazijnmedewerker")
        make_vacancy(session, vacature_nummer="V-FORM", titel="Inpakker")
        make_vacancy(session, vacature_nummer="SCA-WEB", bron="Scalabor", titel="Medewerker groen", jobcoach=True)
        make_vacancy(session, vacature_nummer="V-DICHT", titel="Schoonmaker", status="vervuld")
    app = create_app(settings, matcher)
    for url in serve(app):
        assert matcher.wait_embedded(timeout=300), "embedding the test world did not finish"
        yield url


def test_consulent_sees_explained_candidates_and_proposes_one(new_page) -> None:
    page = new_page()
    login(page, "consulent1")
    assert page.url.endswith("/vacatures")
    page.get_by_label("Zoeken op titel, werkgever, nummer of plaats").fill("V-WEB1")
    page.get_by_role("button", name="Zoeken").click()
    assert page.get_by_role("status").inner_text().startswith("1 open vacature")
    check_accessibility(page, "vacatures")

    page.get_by_role("link", name="V-WEB1", exact=True).click()
    page.wait_for_url("**/vacatures/V-WEB1#kandidaten")
    assert page.get_by_label("Alleen mijn klanten").is_checked()  # a consulent's default (test_web_candidates)
    page.get_by_label("Alleen mijn klanten").uncheck()
    page.get_by_role("button", name="Toon").click()
    page.wait_for_url("**/vacatures/V-WEB1?*eigen=nee*")
    candidates = page.locator("li.candidate")
    assert candidates.count() == len(OWN + OTHER)
    # explanations in words: a positive reason on every candidate, the "niet getoond" summary, the picture
    for index in range(candidates.count()):
        assert candidates.nth(index).locator(".chip.good").count() >= 1
    assert page.get_by_role("heading", name="Niet getoond, omdat…").is_visible()
    summary = page.locator("section", has=page.get_by_role("heading", name="Niet getoond, omdat…")).inner_text()
    assert not any(key in summary for key in ("urenPassenNiet", "buitenReisbereik", "beperkingOnverenigbaar"))
    assert page.locator("svg[role=img] title", has_text="Afstand van de kandidaten").count() == 1
    own = page.locator("li.candidate", has_text="K-W1")
    assert own.get_by_text("eigen klant").is_visible()
    assert own.get_by_text("Let op (beperking):").count() >= 1  # own client: the beperking's aandachtspunt
    other = page.locator("li.candidate", has_text="K-B1")
    assert other.get_by_text("Let op (beperking):").count() == 0
    assert other.get_by_role("button").count() == 0  # another consulent's client: no voorstellen here
    assert "Volgorde: geleerd" in page.locator("#rangschikking").inner_text()
    # the map: only the own clients, by direction and distance, with the same in words beside it
    assert page.locator("svg[role=img] title", has_text="Waar de eigen kandidaten wonen").count() == 1
    directions = page.get_by_role("list", name="Richting en afstand van de eigen kandidaten").inner_text()
    assert all(number in directions for number in OWN) and not any(number in directions for number in OTHER)
    assert "km, zuid" in directions  # K-W2 lives in 6836, south of the vacancy's 6827
    check_accessibility(page, "kandidaten-consulent")

    # afwijzen met reden: 'anders' without a toelichting is refused next to the toelichting, the choice kept
    rejected = page.locator("li.candidate", has_text="K-W2")
    rejected.locator("details.reject > summary").click()
    rejected.get_by_label("Reden van afwijzen").select_option("anders")
    rejected.get_by_role("button", name="Afwijzen: K-W2").click()
    rejected = page.locator("li.candidate", has_text="K-W2")
    note = rejected.get_by_label("Toelichting bij afwijzen (nodig bij anders)")
    assert note.get_attribute("aria-invalid") == "true"
    assert "vraagt een toelichting" in page.locator(f"#{note.get_attribute('aria-describedby')}").inner_text()
    assert rejected.get_by_label("Reden van afwijzen").input_value() == "anders"
    check_accessibility(page, "kandidaten-afwijzen-fout")
    note.fill("Start volgende maand met een opleiding")
    rejected.get_by_role("button", name="Afwijzen: K-W2").click()
    page.wait_for_url("**/vacatures/V-WEB1?*afgewezen=K-W2*")
    assert "afgewezen (anders)" in page.locator("li.candidate", has_text="K-W2").inner_text()
    assert page.locator("li.candidate", has_text="K-W2").get_by_role("button").count() == 0
    assert "Start volgende maand" in page.locator("section", has_text="Afgewezen voor deze vacature").inner_text()

    own = page.locator("li.candidate", has_text="K-W1")
    own.locator("details.reason > summary").click()
    own.get_by_label("Waarom voorstellen (optioneel)").select_option("kent_klant")
    own.get_by_label("Toelichting bij het voorstel (nodig bij anders)").fill("Past goed bij zijn ervaring")
    own.get_by_role("button", name="Voorstellen: K-W1").click()
    page.wait_for_url("**/vacatures/V-WEB1?*voorgesteld=K-W1*")  # back on the card (test_web_candidates)
    page.locator("li.candidate", has_text="K-W1").get_by_role("link", name="naar het voorstel").click()
    page.wait_for_url("**/voorstellen?nieuw=*")
    assert "is opgeslagen" in page.get_by_role("status").first.inner_text()
    row = page.locator("tr.highlight")
    assert "K-W1" in row.inner_text() and "V-WEB1" in row.inner_text() and "voorgesteld" in row.inner_text()
    check_accessibility(page, "voorstellen")

    # afwijzen met reden: without a reason the API's Dutch message shows next to the field, input kept
    row.get_by_label("Naar").select_option("afgewezen")
    row.get_by_label("Toelichting").fill("werkgever koos iemand anders")
    row.get_by_role("button", name="Opslaan").click()
    assert page.locator(".field-error").first.inner_text()
    assert "vraagt een reden" in page.get_by_role("alert").inner_text()
    row = page.locator("tr", has_text="V-WEB1")
    assert row.get_by_label("Toelichting").input_value() == "werkgever koos iemand anders"
    row.get_by_label("Reden (bij afgewezen of uitgevallen)").select_option("vacature_vervuld_door_ander")
    row.get_by_role("button", name="Opslaan").click()
    page.wait_for_url("**/voorstellen?nieuw=*")
    assert "is opgeslagen" in page.get_by_role("status").first.inner_text()
    assert page.locator("tr", has_text="V-WEB1").count() == 0  # closed: out of the default list (open only)
    page.get_by_label("Status").select_option("afgewezen")  # the status filter finds it
    page.get_by_role("button", name="Tonen").click()
    page.wait_for_url("**/voorstellen?status=afgewezen*")
    closed = page.locator("tr", has_text="V-WEB1")
    assert closed.count() == 1 and "afgewezen" in closed.inner_text() and "afgerond" in closed.inner_text()


@ON_BOTH_DATABASES
def test_accountmanager_pushes_and_consulent_finds_it_in_the_inbox(new_page) -> None:
    manager = new_page()
    login(manager, "accountmanager")
    manager.goto("/vacatures/V-PUSH")
    listing = manager.locator("ol.candidates").inner_text()
    assert "P-" in listing and "K-W" not in listing and "K-B" not in listing  # pseudonyms only
    assert "beperking" not in listing.lower() and "GEHEIM" not in manager.content()
    check_accessibility(manager, "kandidaten-accountmanager")

    manager.get_by_label("Aantal kandidaten").last.fill("5")
    manager.get_by_label("Toelichting voor de consulenten (optioneel)").fill("Werkgever zoekt snel mensen")
    manager.get_by_role("button", name="Vacature pushen").click()
    manager.wait_for_url("**/pushes?vacature=V-PUSH&aangemaakt=5*")  # post/redirect/get: a refresh sends nothing
    result = manager.get_by_role("status").filter(has_text="Gepusht").inner_text()
    assert "5 kandidaten in de inbox van 2 consulenten" in result
    assert "K-" not in result
    manager.reload()
    assert manager.get_by_role("status").filter(has_text="Gepusht").count() == 1

    consulent = new_page()
    login(consulent, "consulent1")
    consulent.goto("/inbox")
    item = consulent.locator("li.inbox-item", has_text="V-PUSH").first
    assert "Werkgever zoekt snel mensen" in item.inner_text() and "Gepusht" in item.inner_text()
    assert consulent.locator("li.inbox-item", has_text="V-PUSH").count() == len(OWN)
    check_accessibility(consulent, "inbox")
    # afwijzen needs a reason (browser validation); with one it leaves the inbox
    declined = consulent.locator("li.inbox-item", has_text="V-PUSH").nth(1)
    declined.get_by_label("Reden van afwijzen").select_option("reisafstand")
    declined.get_by_role("button", name="Afwijzen").click()
    consulent.wait_for_url("**/inbox?afgehandeld=*")
    assert consulent.locator("li.inbox-item", has_text="V-PUSH").count() == len(OWN) - 1
    accepted = consulent.locator("li.inbox-item", has_text="V-PUSH").first
    accepted.get_by_label("Waarom voorstellen (optioneel)").select_option("ontwikkelkans")
    accepted.get_by_role("button", name="Accepteren en voorstellen").click()
    consulent.wait_for_url("**/voorstellen?nieuw=*")
    row = consulent.locator("tr.highlight").inner_text()
    assert "V-PUSH" in row and "ontwikkelkans" in row  # the reason of the decision is kept and shown


@ON_BOTH_DATABASES
def test_role_limits_on_client_pages(new_page) -> None:
    manager = new_page()
    login(manager, "accountmanager")
    response = manager.goto("/klanten/K-W1")
    assert response.status == 403
    assert manager.get_by_role("heading", level=1).inner_text() == "Geen toegang"
    assert "tillen" not in manager.content() and "GEHEIM" not in manager.content()
    assert manager.get_by_role("link", name="Mijn klanten").count() == 0  # not in the menu either

    other = new_page()
    login(other, "consulent2")
    unknown = other.goto("/klanten/K-BESTAAT-NIET").status, other.locator("main").inner_text()
    foreign = other.goto("/klanten/K-W1").status, other.locator("main").inner_text()
    assert foreign == unknown and foreign[0] == 404  # another's client looks exactly like an unknown one
    assert "GEHEIM" not in other.content()

    own = new_page()
    login(own, "consulent1")
    own.goto("/klanten")
    assert own.locator("tbody tr").count() == len(OWN)
    assert "aan te vullen: opleidingsniveau" in own.locator("tr", has_text="K-W1").inner_text()
    check_accessibility(own, "klanten")
    own.get_by_role("link", name="Profielen met aandacht").click()
    own.wait_for_url("**/klanten/datakwaliteit")
    attention = own.locator("tbody tr")
    assert "K-W3" in attention.first.inner_text() and "onvolledig" in attention.first.inner_text()  # worst first
    assert "K-B" not in own.locator("main").inner_text() and "GEHEIM" not in own.content()  # own caseload only
    check_accessibility(own, "datakwaliteit")
    own.goto("/klanten")
    own.get_by_role("link", name="K-W1").click()
    assert "Rugklachten-GEHEIM" in own.locator("main").inner_text()  # the own consulent sees beperkingen
    assert own.title() == "Klant K-W1 – werkmatch"  # the page title is the title, nothing of the page in it
    assert own.get_by_role("heading", name="Opties bij intake").is_visible()
    assert own.locator("table a[href^='/vacatures/']").count() >= 1
    assert "opleidingsniveau" in own.locator("section", has_text="Gegevens nakijken").inner_text()
    check_accessibility(own, "klant")

    own.get_by_label("Minimale score (0 tot 100)").evaluate("e => e.removeAttribute('max')")  # past the browser
    own.get_by_label("Minimale score (0 tot 100)").fill("700")
    own.get_by_label("Hoogstens vacatures per keer").fill("12")
    own.get_by_role("button", name="Bewaren").click()
    assert own.locator("#minScore-fout").inner_text()  # the server's Dutch error, next to the field
    assert own.get_by_label("Minimale score (0 tot 100)").input_value() == "700"
    assert own.get_by_label("Hoogstens vacatures per keer").input_value() == "12"
    own.get_by_label("Minimale score (0 tot 100)").fill("62.5")
    own.get_by_role("button", name="Bewaren").click()
    assert "bewaard" in own.get_by_role("status").filter(has_text="zoekopdracht").inner_text()
    saved = own.get_by_role("table", name="Bewaarde zoekopdrachten voor K-W1")
    assert saved.locator("tbody tr").count() == 1 and "62,5" in saved.inner_text()
    saved.get_by_role("button", name="Verwijderen").click()
    assert "verwijderd" in own.get_by_role("status").filter(has_text="zoekopdracht").inner_text()
    assert own.get_by_role("table", name="Bewaarde zoekopdrachten voor K-W1").count() == 0


def test_forms_validate_and_keep_what_was_typed(new_page) -> None:
    page = new_page()
    page.goto("/vacatures")
    assert "/inloggen" in page.url  # not logged in: to the login page, and back afterwards
    page.get_by_role("button", name="Inloggen").click()  # empty: the browser refuses to send it
    assert page.get_by_label("Gebruikersnaam").evaluate("e => e.validity.valueMissing")
    page.get_by_label("Gebruikersnaam").fill("consulent1")
    page.get_by_label("Wachtwoord").fill("fout")
    page.get_by_role("button", name="Inloggen").click()
    assert "klopt niet" in page.locator("#wachtwoord-fout").inner_text()
    assert page.get_by_label("Gebruikersnaam").input_value() == "consulent1"
    check_accessibility(page, "inloggen-fout")
    page.get_by_label("Wachtwoord").fill("consulent1-demo-wachtwoord")
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/vacatures")

    response = page.goto("/vacatures/V-FORM?straal=900&uren=20&trede=4")  # past the browser: the server checks
    assert response.status == 400
    assert page.locator("#straal-fout").inner_text()
    assert page.get_by_label("Straal (km)").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Minstens uren per week").input_value() == "20"
    assert page.get_by_label("4", exact=True).is_checked()

    cookie = next(c for c in page.context.cookies() if c["name"] == "werkmatch_sessie")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    forged = page.request.post("/vacatures/V-FORM/voorstellen", form={"klant": "K-W2"}, max_redirects=0)
    assert forged.status == 403  # no CSRF token: refused, nothing proposed
    page.goto("/voorstellen")
    assert "V-FORM" not in page.locator("main").inner_text()

    csv = page.request.get("/vacatures/V-FORM/kandidaten.csv?trede=4")
    assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text().splitlines()[0].lstrip("\ufeff").startswith("rang;kandidaat;kans op aanname (%)")
    xlsx = page.request.get("/vacatures/V-FORM/kandidaten.xlsx")
    assert xlsx.status == 200 and xlsx.body()[:2] == b"PK"

    page.goto("/vacatures")
    page.get_by_label("Status").select_option("vervuld")
    page.get_by_role("button", name="Zoeken").click()
    assert page.get_by_role("status").inner_text().startswith("1 vervulde vacature")
    assert (
        page.get_by_role("link", name="V-DICHT").count() == 1 and page.get_by_role("link", name="V-FORM").count() == 0
    )

    lost = page.goto("/bestaat-niet")  # a wrong link: a Dutch page, not JSON
    assert lost.status == 404 and "Niet gevonden" in page.locator("h1").inner_text()
    check_accessibility(page, "fout")
    api = page.request.get("/api/v1/bestaat-niet")
    assert api.status == 404 and api.headers["content-type"] == "application/problem+json"


def test_data_scientist_sees_models_and_promotion_refusals(new_page) -> None:
    page = new_page()
    login(page, "datascientist")
    assert page.url.endswith("/modellen")
    assert page.get_by_role("heading", name="Modellen", level=1).is_visible()
    assert page.get_by_role("link", name="Mijn klanten").count() == 0
    page.get_by_label("Forceren, ook als de toets niet gehaald wordt").check()
    page.get_by_role("button", name="Promoveren").click()
    assert "Geef een reden" in page.locator("#reden-fout").inner_text()
    assert page.get_by_label("Forceren, ook als de toets niet gehaald wordt").is_checked()
    page.get_by_label("Reden van de promotie").fill("proef")
    page.get_by_label("Forceren, ook als de toets niet gehaald wordt").uncheck()
    page.get_by_role("button", name="Promoveren").click()
    assert "Niet gepromoveerd" in page.get_by_role("alert").inner_text()  # no challenger in this world
    assert page.get_by_label("Reden van de promotie").input_value() == "proef"
    check_accessibility(page, "modellen")
    assert page.goto("/vacatures/V-WEB1/kandidaten.csv").status == 403  # no candidate lists for this role
    assert page.goto("/modellen/999/fairness").status == 404  # no such version: the Dutch page, not JSON
    assert page.get_by_role("heading", level=1).inner_text() == "Niet gevonden"
