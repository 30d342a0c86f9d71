"""Every list reachable, pushes you can follow, errors and sessions that forgive (issue 18, items 5, 6, 10).

Over HTTP on one app per module (SQLite, then PostgreSQL): 280 voorstellen and 280 inbox items of one
caseload, paged to the last one through the API; the audit search's count; a push that names its
receivers and a page of pushes with their state per consulent; outside ``/api/`` every error a Dutch
page (405 and 500 included) while ``/api/v1`` keeps problem+json; an expired web session that sends
the user back to the page, with what a form held, and never to another site.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.services import pushes, voorstellen
from api.services.inbox import InboxItem
from api.services.tokens import create_access_token
from api.services.users import get_user
from api.services.werkproces import Actor
from api.web.session import COOKIE, FORM_COOKIE, safe_next
from matching import geo
from matching.domain import Client, Vacancy
from tests.factories import app_settings, assert_problem, inbox_items, make_client, make_vacancy, running_app

OWN = tuple(f"K-L{i:02d}" for i in range(20))  # wc-a: consulent1's caseload
OTHER = ("K-M1", "K-M2")  # wc-b: consulent2
PAIRS = tuple(f"V-L{i:02d}" for i in range(14))  # 20 clients x 14 vacancies = 280 voorstellen, 280 items
TOTAL = len(OWN) * len(PAIRS)
ARCHIVE = "am-archief"  # the sender of the 280 inbox items: not the accountmanager, whose pushes are tested


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, embedder, module_database: str) -> Iterator[TestClient]:
    def records(session: Session) -> None:
        clients = [make_client(session, client_nummer=n, consulent="wc-a") for n in OWN]
        clients += [make_client(session, client_nummer=n, consulent="wc-b") for n in OTHER]
        vacancies = [make_vacancy(session, vacature_nummer=n) for n in PAIRS]
        make_vacancy(session, vacature_nummer="V-PUSHL", titel="Orderpicker")
        for client in clients[: len(OWN)]:
            for vacancy in vacancies:
                session.add(
                    InboxItem(
                        soort="push", consulent="wc-a", client_id=client.id, vacancy_id=vacancy.id, sender=ARCHIVE
                    )
                )
        session.commit()

    settings = app_settings(tmp_path_factory.mktemp("lists") / "var", database_url=module_database)
    with running_app(settings, embedder, records) as client:
        actor = Actor(username="consulent1", rol="werkconsulent", consulent="wc-a")
        for klant in OWN:
            for vacature in PAIRS:
                voorstellen.propose(client.app.state.matcher.engine, actor, klant, vacature)
        yield client


def test_voorstellen_page_to_the_last_one_and_a_bad_page_is_a_problem(http, tokens) -> None:
    seen: set[int] = set()
    for pagina in range(1, 7):
        body = {"pagina": pagina, "paginaGrootte": 50}
        found = http.post("/api/v1/voorstellen/zoeken", json=body, headers=tokens["consulent1"]).json()
        assert found["totaal"] == TOTAL and found["aantalPaginas"] == 6
        seen |= {v["id"] for v in found["voorstellen"]}
    assert len(seen) == TOTAL  # page 6 holds items 251-280: every one reachable, none twice
    past = http.post(
        "/api/v1/voorstellen/zoeken", json={"pagina": 7, "paginaGrootte": 50}, headers=tokens["consulent1"]
    )
    assert past.status_code == 200 and past.json()["voorstellen"] == []  # past the last page: empty, the convention
    for bad in ({"pagina": 0}, {"pagina": "twee"}, {"paginaGrootte": 101}):
        refused = http.post("/api/v1/voorstellen/zoeken", json=bad, headers=tokens["consulent1"])
        assert_problem(refused, 400)


def test_inbox_pages_filters_on_status_and_shows_hours_and_distance(http, tokens) -> None:
    headers = tokens["consulent1"]
    last = http.get("/api/v1/inbox", params={"pagina": 6, "paginaGrootte": 50}, headers=headers).json()
    assert last["totaal"] == TOTAL and last["aantalPaginas"] == 6 and len(last["items"]) == TOTAL - 250
    item = last["items"][0]
    with Session(http.app.state.matcher.engine) as session:
        vacancy = session.exec(select(Vacancy).where(Vacancy.vacature_nummer == item["vacatureId"])).one()
        client = session.exec(select(Client).where(Client.client_nummer == item["klantId"])).one()
    assert (item["urenMin"], item["urenMax"]) == (vacancy.uren_min, vacancy.uren_max)
    assert item["afstandKm"] == round(geo.distance_km(client.postcode, vacancy.postcode), 1)
    assert_problem(http.get("/api/v1/inbox", params={"pagina": "x"}, headers=headers), 400)

    declined = http.post(
        f"/api/v1/inbox/{item['id']}/afwijzen", json={"reden": "reisafstand"}, headers=headers
    ).raise_for_status()
    assert declined.json()["status"] == "afgehandeld"
    handled = inbox_items(http, headers, status="afgehandeld")
    assert [i["id"] for i in handled] == [item["id"]]
    assert http.get("/api/v1/inbox", headers=headers).json()["totaal"] == TOTAL - 1  # default: open


def test_audit_search_says_how_many_entries_there_are_over_all_pages(http, tokens) -> None:
    search = {"actie": "voorstel_gedaan", "gebruiker": "consulent1", "aantal": 50, "overslaan": 250}
    found = http.post("/api/v1/audit/zoeken", json=search, headers=tokens["beheerder"]).json()
    assert found["totaal"] == TOTAL and len(found["regels"]) == TOTAL - 250


def test_push_names_its_receivers_and_the_pushes_list_follows_each_item(http, tokens) -> None:
    pushed = http.post(
        "/api/v1/vacatures/V-PUSHL/push",
        json={"aantal": 22, "toelichting": "Start maandag"},
        headers=tokens["accountmanager"],
    ).json()
    assert pushed["aangemaakt"] == 22 and pushed["nietBereikt"] is None
    by_code = {row["consulent"]: row for row in pushed["ontvangers"]}
    assert by_code["wc-a"] == {"consulent": "wc-a", "namen": ["Demo werkconsulent 1"], "aantal": len(OWN)}
    assert by_code["wc-b"]["namen"] == ["Demo werkconsulent 2"] and by_code["wc-b"]["aantal"] == len(OTHER)
    assert "K-" not in json.dumps(pushed)  # names of colleagues, never klantnummers

    again = http.post("/api/v1/vacatures/V-PUSHL/push", json={"aantal": 3}, headers=tokens["accountmanager"]).json()
    assert again["aangemaakt"] == 0 and again["ontvangers"] == []  # every pair is in an inbox already
    assert "al een lopende suggestie of voorstel" in again["nietBereikt"]

    def state(code: str) -> dict[str, int]:
        listed = http.get("/api/v1/pushes", headers=tokens["accountmanager"]).json()
        assert listed["totaal"] == 1 and listed["pushes"][0]["vacatureId"] == "V-PUSHL"
        return next(row for row in listed["pushes"][0]["ontvangers"] if row["consulent"] == code)

    assert state("wc-a") | {"namen": None} == {
        "consulent": "wc-a",
        "namen": None,
        "aantal": 20,
        "open": 20,
        "bekeken": 0,
        "voorgesteld": 0,
        "afgewezen": 0,
    }
    headers = tokens["consulent1"]
    shown = http.get("/api/v1/inbox", params={"paginaGrootte": 5}, headers=headers).json()["items"]
    fresh = [i for i in shown if i["vacatureId"] == "V-PUSHL"]
    assert len(fresh) == 5  # newest first: the push's items
    http.post(f"/api/v1/inbox/{fresh[0]['id']}/accepteren", headers=headers).raise_for_status()
    http.post(
        f"/api/v1/inbox/{fresh[1]['id']}/afwijzen", json={"reden": "uren_werktijden"}, headers=headers
    ).raise_for_status()
    after = state("wc-a")
    assert (after["open"], after["bekeken"], after["voorgesteld"], after["afgewezen"]) == (15, 3, 1, 1)
    assert state("wc-b")["open"] == len(OTHER)  # consulent2 has not looked: their items stay open
    assert_problem(http.get("/api/v1/pushes", headers=headers), 403)


def test_reach_note_says_why_a_push_reached_nobody() -> None:
    assert "leeg" in pushes.reach_note(0, 0, [])
    assert "Alle 3 kandidaten" in pushes.reach_note(3, 0, [])
    orphaned = [{"consulent": "wc-z", "namen": [], "aantal": 2}]
    assert "zonder actieve werkconsulent (wc-z)" in pushes.reach_note(2, 2, orphaned)
    assert pushes.reach_note(2, 2, [*orphaned, {"consulent": "wc-a", "namen": ["A"], "aantal": 1}]) is None


def test_outside_the_api_every_error_is_a_dutch_page_inside_it_problem_json(http, tokens) -> None:
    page = http.get("/voorstellen/1/overgang")  # a form's address, opened or reloaded
    assert page.status_code == 405 and page.headers["content-type"].startswith("text/html")
    assert page.headers["allow"] == "POST" and "Dit adres hoort bij een formulier" in page.text
    assert 'href="/voorstellen"' in page.text and "{" not in page.text.split("<main", 1)[1].split("</main>")[0]
    api = http.get("/api/v1/voorstellen/zoeken", headers=tokens["consulent1"])
    assert_problem(api, 405)
    assert http.get("/voorstellen/abc/overgang").headers["content-type"].startswith("text/html")

    def boom() -> None:
        raise RuntimeError("kapot")

    too_big = {"content": b"x" * (2 * 1024 * 1024), "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    refused = http.post("/inloggen", **too_big)
    assert refused.status_code == 413 and "Verzoek te groot" in refused.text and refused.text.startswith("<!doctype")
    assert_problem(http.post("/api/v1/token", **too_big), 413)

    http.app.add_api_route("/kapot-pagina", boom)
    http.app.add_api_route("/api/v1/kapot", boom)
    quiet = TestClient(http.app, raise_server_exceptions=False)
    broken = quiet.get("/kapot-pagina")
    assert broken.status_code == 500 and "Er ging iets mis" in broken.text and "kapot" not in broken.text.lower()
    assert_problem(quiet.get("/api/v1/kapot"), 500)


@pytest.mark.parametrize(
    "target",
    ["https://elders.example/", "//elders.example/x", "/\\elders.example", "/\t/elders.example", "javascript:x", ""],
)
def test_after_login_never_to_another_site(target: str) -> None:
    assert safe_next(target) is None


def test_an_expired_session_says_so_and_returns_with_the_typed_text(http) -> None:
    settings, engine = http.app.state.settings, http.app.state.matcher.engine
    with Session(engine) as session:
        user = get_user(session, "consulent1")
        assert user is not None
    long_ago = datetime.now(UTC) - timedelta(minutes=settings.auth.token_minutes + 5)
    browser = TestClient(http.app, base_url="http://testserver")
    browser.cookies.set(COOKIE, create_access_token(settings, user, now=long_ago))
    asked = browser.get("/voorstellen?status=alle&pagina=2", follow_redirects=False)
    assert asked.status_code == 303 and "melding=verlopen" in asked.headers["location"]
    assert "volgende=%2Fvoorstellen%3Fstatus%3Dalle%26pagina%3D2" in asked.headers["location"]

    sent = browser.post(
        "/voorstellen/1/overgang",
        data={"naar": "afgewezen", "reden": "anders", "toelichting": "Werkgever koos een ander", "csrf": "oud"},
        headers={"Referer": "http://testserver/voorstellen?pagina=2"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and "volgende=%2Fvoorstellen%3Fpagina%3D2" in sent.headers["location"]
    assert "Werkgever" not in sent.headers["location"]  # the typed text never in the URL
    login = browser.post(
        "/inloggen",
        data={
            "gebruikersnaam": "consulent1",
            "wachtwoord": "consulent1-demo-wachtwoord",
            "volgende": "/voorstellen?pagina=2",
        },
        follow_redirects=False,
    )
    assert login.status_code == 303 and login.headers["location"] == "/voorstellen?pagina=2"
    back = browser.get(login.headers["location"])
    kept = json.loads(html.unescape(re.search(r"id=\"bewaard\" hidden data-formulier='(.*?)'", back.text).group(1)))
    assert kept == {
        "actie": "/voorstellen/1/overgang",
        "velden": {"naar": "afgewezen", "reden": "anders", "toelichting": "Werkgever koos een ander"},
    }
    assert FORM_COOKIE not in browser.cookies  # filled in once
    assert 'id="bewaard"' not in browser.get("/voorstellen?pagina=2").text

    stranger = TestClient(http.app, base_url="http://testserver")
    elsewhere = stranger.post(
        "/voorstellen/1/overgang",
        data={"toelichting": "x"},
        headers={"Referer": "https://elders.example/"},
        follow_redirects=False,
    )
    assert elsewhere.headers["location"] == "/inloggen" and FORM_COOKIE not in stranger.cookies
    assert stranger.get("/inloggen?volgende=//elders.example").text.count('name="volgende" value=""') == 1
