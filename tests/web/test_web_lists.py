"""Every list reachable, sessions that forgive, pushes you can follow (issue 18, items 5, 6, 10) in chromium.

One world for the module: consulent1's caseload (wc-a) has 281 voorstellen, 280 of them open (20 clients
x 14 vacancies) and one afgewezen; consulent2 (wc-b) has two clients; one more vacancy is pushed by the
accountmanager. The session test expires the consulent's token as time would: the cookie still holds it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from api.app import create_app
from api.services import voorstellen
from api.services.tokens import create_access_token
from api.services.users import get_user
from api.services.werkproces import Actor
from api.web.session import COOKIE
from matching.matcher import Matcher
from matching.outcomes import VoorstelStatus
from matching.settings import RankerSettings, Settings
from tests.factories import make_client, make_vacancy
from tests.web.browser import ON_BOTH_DATABASES, check_accessibility, login, serve

pytestmark = pytest.mark.slow  # Chromium against a served app with 281 voorstellen: ≈ 30 s

OWN = tuple(f"K-WL{i:02d}" for i in range(20))
VACANCIES = tuple(f"V-WL{i:02d}" for i in range(14))
PUSHED = "V-WLPUSH"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, embedder, web_database: str) -> Iterator[tuple[str, Any]]:
    data_dir = tmp_path_factory.mktemp("lijsten") / "var"
    settings = Settings(data_dir=data_dir, database_url=web_database, ranker=RankerSettings(poll_seconds=0))
    matcher = Matcher(settings, embedder=embedder)
    with Session(matcher.engine) as session:
        for number in (*OWN, "K-WLX"):
            make_client(session, client_nummer=number, consulent="wc-a")
        for number in ("K-WLB1", "K-WLB2"):
            make_client(session, client_nummer=number, consulent="wc-b")
        for number in VACANCIES:
            make_vacancy(session, vacature_nummer=number, uren_min=24, uren_max=32)
        make_vacancy(session, vacature_nummer=PUSHED, titel="Orderpicker")
    app = create_app(settings, matcher)
    for url in serve(app):  # the tables of the voorstellen and the audit log exist once it runs
        actor = Actor(username="consulent1", rol="werkconsulent", consulent="wc-a")
        for klant in OWN:
            for vacature in VACANCIES:
                voorstellen.propose(matcher.engine, actor, klant, vacature)
        done = voorstellen.propose(matcher.engine, actor, "K-WLX", VACANCIES[0])
        voorstellen.move(matcher.engine, actor, done["id"], VoorstelStatus.AFGEWEZEN, "vaardigheden", None)
        assert matcher.wait_embedded(timeout=300), "embedding the test world did not finish"
        yield url, app


@pytest.fixture(scope="module")
def web_url(world: tuple[str, Any]) -> str:
    return world[0]


@ON_BOTH_DATABASES
def test_voorstellen_page_to_item_280_and_filter_on_status(new_page) -> None:
    page = new_page()
    login(page, "consulent1")
    page.goto("/voorstellen")
    assert "280 open voorstellen" in page.get_by_role("status").first.inner_text()  # the default filter: open
    assert "1–50 van 280" in page.locator("nav.pager").inner_text()
    for _ in range(5):
        page.get_by_role("link", name="Volgende pagina").click()
    assert page.url.endswith("status=open&pagina=6")
    assert "251–280 van 280" in page.locator("nav.pager").inner_text()
    assert page.locator("table tbody tr").count() == 30
    assert page.get_by_role("link", name="Volgende pagina").count() == 0
    check_accessibility(page, "voorstellen-laatste-pagina")

    page.get_by_label("Status").select_option("afgewezen")
    page.get_by_role("button", name="Tonen").click()
    rows = page.locator("table tbody tr")
    assert rows.count() == 1 and "K-WLX" in rows.first.inner_text()
    page.get_by_label("Status").select_option("alle")
    page.get_by_role("button", name="Tonen").click()
    assert "1–50 van 281" in page.locator("nav.pager").inner_text()


def test_an_expired_session_comes_back_to_the_same_page_with_the_typed_text(new_page, world, web_url) -> None:
    _, app = world
    page = new_page()
    login(page, "consulent1")
    page.goto("/voorstellen?status=open&pagina=2")
    row = page.locator("table tbody tr").first
    number = row.locator("td").first.inner_text()
    row.get_by_label("Naar").select_option("afgewezen")
    row.get_by_label("Reden (bij afgewezen of uitgevallen)").select_option("anders")
    row.get_by_label("Toelichting").fill("Werkgever koos een kandidaat met heftruckcertificaat")

    settings = app.state.settings
    with Session(app.state.matcher.engine) as session:
        user = get_user(session, "consulent1")
    long_ago = datetime.now(UTC) - timedelta(minutes=settings.auth.token_minutes + 1)
    page.context.add_cookies(
        [{"name": COOKIE, "value": create_access_token(settings, user, now=long_ago), "url": web_url}]
    )
    row.get_by_role("button", name="Opslaan").click()

    page.wait_for_url("**/inloggen?*")
    assert "Uw sessie is verlopen" in page.get_by_role("status").inner_text()
    assert "heftruck" not in page.url  # the typed text never in the address
    page.get_by_label("Gebruikersnaam").fill("consulent1")
    page.get_by_label("Wachtwoord").fill("consulent1-demo-wachtwoord")
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/voorstellen?status=open&pagina=2")
    row = page.locator(f"tr#voorstel-{number}")
    note = row.get_by_label("Toelichting")
    assert note.input_value() == "Werkgever koos een kandidaat met heftruckcertificaat"
    assert row.get_by_label("Naar").input_value() == "afgewezen"
    assert note.evaluate("e => e === document.activeElement")
    check_accessibility(page, "voorstellen-na-opnieuw-inloggen")
    row.get_by_role("button", name="Opslaan").click()
    page.wait_for_url(f"**/voorstellen?nieuw={number}")
    page.reload()
    assert page.locator("#bewaard").count() == 0  # filled in once, then forgotten


def test_a_wrong_method_on_a_web_path_is_a_dutch_page_not_json(new_page) -> None:
    page = new_page()
    login(page, "consulent1")
    response = page.goto("/voorstellen/1/overgang")  # a form's address, as after reloading a failed post
    assert response.status == 405 and response.headers["content-type"].startswith("text/html")
    assert page.get_by_role("heading", level=1).inner_text() == "Deze pagina opent zo niet"
    assert '"status"' not in page.content() and "GET kan hier niet" not in page.content()
    page.get_by_role("link", name="Terug naar de pagina van het formulier").click()
    page.wait_for_url("**/voorstellen")
    check_accessibility(page, "voorstellen-na-405")


def test_the_push_names_its_receivers_and_the_push_page_follows_them(new_page) -> None:
    manager = new_page()
    login(manager, "accountmanager")
    manager.goto(f"/vacatures/{PUSHED}")
    manager.get_by_label("Aantal kandidaten").last.fill(str(len(OWN) + 3))  # everyone: both consulenten
    manager.get_by_role("button", name="Vacature pushen").click()
    manager.wait_for_url(f"**/pushes?vacature={PUSHED}&aangemaakt=*")
    result = manager.locator("#push-resultaat").inner_text()
    assert "Ontvangen door:" in result and "Demo werkconsulent 1" in result
    assert "K-WL" not in manager.content()  # colleagues by name, clients never
    table = manager.locator("li.push").first.locator("table")
    assert "Demo werkconsulent 1" in table.inner_text()
    check_accessibility(manager, "pushes")

    consulent = new_page()
    login(consulent, "consulent1")
    consulent.goto("/inbox")
    item = consulent.locator("li.inbox-item", has_text=PUSHED).first
    assert item.get_by_role("link", name=f"Orderpicker ({PUSHED})").count() == 1  # to the vacancy
    assert "uur per week" in item.inner_text() and "km van de klant" in item.inner_text()
    manager.goto("/pushes")
    push = manager.locator("li.push").first
    header = [cell.inner_text() for cell in push.locator("thead th").all()]
    cells = [
        cell.inner_text() for cell in push.locator("tbody tr", has_text="Demo werkconsulent 1").locator("td").all()
    ]
    state = dict(zip(header, cells, strict=True))
    # consulent1's inbox showed every item of the push (50 a page): all bekeken, none open any more
    assert state["bekeken"] == state["Kandidaten"] and state["open"] == "0"
