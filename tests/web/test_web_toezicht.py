"""Beheer and toezicht in chromium: accounts, the audit log, the kill switch and the deviation report, with axe.

One world for the module: three clients of consulent1's caseload (wc-a), one of consulent2's, one
vacancy. The kill-switch test switches the whole service and switches it back before it ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlmodel import Session

from api.app import create_app
from matching.matcher import Matcher
from matching.settings import RankerSettings, Settings
from tests.factories import make_client, make_vacancy
from tests.web.browser import ON_BOTH_DATABASES, check_accessibility, login, serve

pytestmark = pytest.mark.slow  # Chromium against a served app: ≈ 15 s

VACANCY = "V-TOE"


@pytest.fixture(scope="module")
def web_url(tmp_path_factory: pytest.TempPathFactory, embedder, web_database: str) -> Iterator[str]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("toezicht") / "var",
        database_url=web_database,
        ranker=RankerSettings(poll_seconds=0),
    )
    matcher = Matcher(settings, embedder=embedder)
    with Session(matcher.engine) as session:
        for number in ("K-T1", "K-T2", "K-T3"):
            make_client(session, client_nummer=number, consulent="wc-a")
        make_client(session, client_nummer="K-T4", consulent="wc-b")
        make_vacancy(session, vacature_nummer=VACANCY, titel="Productiemedewerker")
    app = create_app(settings, matcher)
    for url in serve(app):
        assert matcher.wait_embedded(timeout=300), "embedding the test world did not finish"
        yield url


@ON_BOTH_DATABASES
def test_beheerder_creates_changes_and_deactivates_an_account_and_searches_the_audit_log(new_page) -> None:
    page = new_page()
    login(page, "beheerder")
    assert page.url.endswith("/beheer/gebruikers")  # the beheerder's own start page
    assert page.get_by_role("link", name="Mijn klanten").count() == 0
    check_accessibility(page, "gebruikers")

    form = page.locator("section", has_text="Nieuw account")
    form.get_by_label("Gebruikersnaam").fill("consulent9")
    form.get_by_label("Wachtwoord").fill("kort")
    form.get_by_label("Consulentcode (alleen en verplicht voor een werkconsulent)").fill("wc-z")
    form.get_by_role("button", name="Account aanmaken").click()
    password = page.locator("section", has_text="Nieuw account").get_by_label("Wachtwoord")
    assert password.get_attribute("aria-invalid") == "true"
    assert "te zwak" in page.locator("#password-fout").inner_text()  # the API's Dutch reason, next to the field
    assert "password-fout" in password.get_attribute("aria-describedby")
    form = page.locator("section", has_text="Nieuw account")
    assert form.get_by_label("Gebruikersnaam").input_value() == "consulent9"  # what was typed stays ...
    assert form.get_by_label("Consulentcode (alleen en verplicht voor een werkconsulent)").input_value() == "wc-z"
    assert password.input_value() == ""  # ... except the password, which is never sent back
    check_accessibility(page, "gebruikers-fout")
    password.fill("consulent9-een-lang-wachtwoord")
    form.get_by_role("button", name="Account aanmaken").click()
    page.wait_for_url("**/beheer/gebruikers?aangemaakt=consulent9")
    row = page.locator("tr#gebruiker-consulent9")
    assert row.get_by_label("Consulentcode van consulent9").input_value() == "wc-z"

    row.get_by_label("Rol van consulent9").select_option("accountmanager")
    row.get_by_role("button", name="Opslaan voor consulent9").click()
    page.wait_for_url("**gewijzigd=consulent9")
    row = page.locator("tr#gebruiker-consulent9")
    assert row.get_by_label("Rol van consulent9").input_value() == "accountmanager"
    assert row.get_by_label("Consulentcode van consulent9").input_value() == ""  # the caseload went with the role
    row.get_by_role("button", name="Deactiveren account consulent9").click()
    page.wait_for_url("**gewijzigd=consulent9")
    assert "gedeactiveerd" in page.locator("tr#gebruiker-consulent9").inner_text()
    page.locator("tr#gebruiker-beheerder").get_by_role("button", name="Deactiveren account beheerder").click()
    assert "eigen account niet deactiveren" in page.locator("tr#gebruiker-beheerder .field-error").inner_text()

    other = new_page()
    other.goto("/inloggen")
    other.get_by_label("Gebruikersnaam").fill("consulent9")
    other.get_by_label("Wachtwoord").fill("consulent9-een-lang-wachtwoord")
    other.get_by_role("button", name="Inloggen").click()
    # The right password of a deactivated account gets the answer of a wrong one: no account oracle.
    assert "klopt niet" in other.locator("#wachtwoord-fout").inner_text()
    assert "gedeactiveerd" not in other.content()

    page.get_by_role("link", name="Auditlog").click()
    page.get_by_label("Actie").fill("gebruiker_gewijzigd")
    page.get_by_label("Klant- of vacaturenummer").fill("consulent9")
    page.get_by_role("button", name="Zoeken en keten controleren").click()
    rows = page.locator("table.audit tbody tr")
    assert rows.count() == 2 and "beheerder" in rows.first.inner_text()  # role change and deactivation
    assert "actief: nee" in rows.first.inner_text()  # newest first, in words
    assert "De keten is heel" in page.get_by_role("status").filter(has_text="keten").inner_text()
    check_accessibility(page, "audit")
    assert page.goto("/beheer/audit?vanaf=2025-13-40").status == 400
    assert page.get_by_label("Vanaf").get_attribute("aria-invalid") == "true"


@ON_BOTH_DATABASES
def test_kill_switch_reaches_the_consulents_list_and_the_report_shows_deviations(new_page) -> None:
    consulent = new_page()
    login(consulent, "consulent1")
    consulent.goto(f"/vacatures/{VACANCY}")
    assert "Volgorde: geleerd" in consulent.locator("#rangschikking").inner_text()
    first_own = consulent.locator("li.candidate", has_text="eigen klant")
    lower = first_own.nth(1)
    number = lower.get_by_role("heading").inner_text().split()[1]
    lower.locator("details.reason > summary").click()
    lower.get_by_label("Waarom voorstellen (optioneel)").select_option("wens_klant")
    lower.get_by_role("button", name=f"Voorstellen: {number}").click()
    consulent.wait_for_url(f"**/vacatures/{VACANCY}?*voorgesteld={number}*")

    beheerder = new_page()
    login(beheerder, "beheerder")
    beheerder.get_by_role("link", name="Toezicht").click()
    beheerder.get_by_label("transparant (regels)").check()
    beheerder.get_by_label("Reden (verplicht)").evaluate("e => e.removeAttribute('required')")  # past the browser
    beheerder.get_by_role("button", name="Rangschikking omzetten").click()
    assert beheerder.get_by_label("Reden (verplicht)").get_attribute("aria-invalid") == "true"
    assert "Geef een reden" in beheerder.locator("#reden-fout").inner_text()
    assert beheerder.get_by_label("transparant (regels)").is_checked()  # the choice stays
    beheerder.get_by_label("Reden (verplicht)").fill("Ranker geeft vreemde lijsten; onderzoek loopt")
    beheerder.get_by_role("button", name="Rangschikking omzetten").click()
    beheerder.wait_for_url("**/toezicht?rangschikking=transparant")
    assert beheerder.locator("#modus-nu").inner_text() == "transparant"
    switch = beheerder.locator("section.switch").inner_text()
    assert "onderzoek loopt" in switch  # who, when and why stay visible
    assert re.search(r"omgezet door beheerder op \d{1,2} [a-z]+ \d{4}, \d\d:\d\d", switch)  # the datum filter
    # the report: counts only, the beheerder sees the consulent's name, signals in words
    report = beheerder.get_by_role("table", name="Per consulent").inner_text()
    assert "consulent1" in report and number not in beheerder.locator("main").inner_text()
    assert "Te weinig voorstellen" in beheerder.locator("section.signals").inner_text()
    assert beheerder.locator("svg[role=img] title", has_text="Plaats in de eigen rangorde").count() == 1
    check_accessibility(beheerder, "toezicht-beheerder")
    beheerder.goto("/toezicht?vanaf=2025-03-01&tot=2025-02-01")
    assert "ligt na tot" in beheerder.locator("#tot-fout").inner_text()
    assert beheerder.get_by_label("Vanaf").input_value() == "2025-03-01"

    consulent.goto(f"/vacatures/{VACANCY}")
    assert "Volgorde: vaste regels" in consulent.locator("#rangschikking").inner_text()

    scientist = new_page()
    login(scientist, "datascientist")
    scientist.get_by_role("link", name="Toezicht").click()
    report = scientist.get_by_role("table", name="Per consulent").inner_text()
    assert "P-" in report and "consulent1" not in report  # consulenten as pseudonyms for the data scientist
    check_accessibility(scientist, "toezicht-datascientist")
    scientist.get_by_role("link", name="Modellen").click()
    assert scientist.locator("#modus-nu").inner_text() == "transparant"
    scientist.get_by_label("model", exact=True).check()
    scientist.get_by_label("Reden (verplicht)").fill("Oorzaak gevonden en opgelost")
    scientist.get_by_role("button", name="Rangschikking omzetten").click()
    scientist.wait_for_url("**/modellen?rangschikking=model")
    assert scientist.locator("#modus-nu").inner_text() == "model"
    check_accessibility(scientist, "modellen-noodstop")
    consulent.goto(f"/vacatures/{VACANCY}")
    assert "Volgorde: geleerd" in consulent.locator("#rangschikking").inner_text()

    assert consulent.goto("/toezicht").status == 403  # not for consulenten
    assert consulent.goto("/beheer/gebruikers").status == 403
