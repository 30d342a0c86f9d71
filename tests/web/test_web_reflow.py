"""Issue 18 item 11 in Chromium: every page reflows on a phone and at large zoom, axe finds nothing serious there,
the candidate list is a skip link away, numbers are Dutch ("7,5" is 7.5 km) and consulent pages speak plain Dutch.

Sizes: 390 and 320 CSS px wide (320 px is 1280 px at 400 % zoom), and 1366 px at 200 % zoom. Chromium's
page zoom is not reachable from Playwright; 200 % zoom is emulated as what it does to the layout: a
viewport of 683 × 450 CSS px drawn at deviceScaleFactor 2 (the same CSS px and the same media queries).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from api.app import create_app
from api.web.formats import MONTHS
from matching.compatibility import Aanpassing, Status
from matching.matcher import Matcher
from matching.settings import RankerSettings, Settings
from matching.vocab import ASPECTS
from tests.factories import make_client, make_vacancy
from tests.web.browser import ARTIFACTS, AXE, check_accessibility, login, serve

pytestmark = pytest.mark.slow  # Chromium against a served app, three sizes × four roles

SIZES = {
    "390px": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1},
    "320px": {"viewport": {"width": 320, "height": 640}, "device_scale_factor": 1},
    "200procent": {"viewport": {"width": 683, "height": 450}, "device_scale_factor": 2},  # 1366 × 900 at 200 %
}
DESKTOP = {"viewport": {"width": 1366, "height": 900}, "device_scale_factor": 1}
LONG_ID = "K-RF-ZEERLANGKLANTNUMMERZONDERSPATIES-0000000001"  # must wrap inside its cell, not widen the page
VACANCY = "V-RF1"
PAGES = {
    "consulent1": (
        "/vacatures",
        f"/vacatures/{VACANCY}",
        "/klanten",
        f"/klanten/{LONG_ID}",
        "/klanten/datakwaliteit",
        "/inbox",
        "/voorstellen",
    ),
    "accountmanager": ("/vacatures", f"/vacatures/{VACANCY}", "/pushes"),
    "datascientist": ("/modellen", "/toezicht"),
    "beheerder": ("/beheer/gebruikers", "/beheer/audit"),
}
CONSULENT_PAGES = PAGES["consulent1"]
# What a consulent should not have to read: raw booleans, ISO dates and times, model jargon.
JARGON = re.compile(r"\b(True|False|None|baseline|ranker)\b|\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}", re.IGNORECASE)
# Where a number is shown with a decimal point instead of a comma ("Score 0.325", "2.5 km").
DECIMAL_POINT = re.compile(r"(?<![\w.])\d+\.(?!\d{3}(?!\d))\d+(?![\w.])")  # "9.000" is Dutch
ARNHEM = ("6827AB", "6836AB", "6822AB")  # a few km from the vacancy (6827)
FAR = ("6511AB", "6711AB")  # Nijmegen and Ede: 15–25 km, inside a 75 km radius, outside 7.5 km


@pytest.fixture(scope="module")
def web_url(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[str]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("reflow") / "var", ranker=RankerSettings(poll_seconds=0))
    matcher = Matcher(settings, embedder=embedder)
    wide = {"beroepen": ["orderpicker"], "sectoren": ["logistiek"], "max_reisafstand_km": 60}
    with Session(matcher.engine) as session:
        make_client(session, client_nummer=LONG_ID, consulent="wc-a", postcode=ARNHEM[0], wensen=wide)
        for index, postcode in enumerate(ARNHEM[1:] + FAR):
            make_client(session, client_nummer=f"K-RF{index}", consulent="wc-a", postcode=postcode, wensen=wide)
        make_client(session, client_nummer="K-RF-B", consulent="wc-b", postcode=ARNHEM[1], wensen=wide)
        make_vacancy(session, vacature_nummer=VACANCY, titel="Orderpicker met een heel lange functietitel")
        make_vacancy(session, vacature_nummer="V-RF2", titel="Magazijnmedewerker")
    app = create_app(settings, matcher)
    for url in serve(app):
        assert matcher.wait_embedded(timeout=300), "embedding the test world did not finish"
        _fill_lists(url)
        yield url


def _fill_lists(url: str) -> None:
    """Rows on every list page: a push (inbox), a voorstel, a saved search and their audit entries."""
    with httpx.Client(base_url=url, timeout=60) as http:

        def bearer(username: str) -> dict[str, str]:
            answer = http.post("/api/v1/token", data={"username": username, "password": f"{username}-demo-wachtwoord"})
            assert answer.status_code == 200, answer.text
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}

        manager, consulent = bearer("accountmanager"), bearer("consulent1")
        pushed = http.post("/api/v1/vacatures/V-RF2/push", json={"aantal": 5}, headers=manager)
        assert pushed.status_code == 200, pushed.text
        made = http.post(
            "/api/v1/voorstellen",
            json={"klantId": "K-RF1", "vacatureId": VACANCY, "reden": "kent_klant"},
            headers=consulent,
        )
        assert made.status_code == 201, made.text
        saved = http.post("/api/v1/zoekopdrachten", json={"klantId": LONG_ID, "minScore": 0.05}, headers=consulent)
        assert saved.status_code == 201, saved.text


def _page(browser: Any, url: str, size: str, username: str) -> Any:
    context = browser.new_context(base_url=url, locale="nl-NL", **SIZES.get(size, DESKTOP))
    if AXE.exists():
        context.add_init_script(path=str(AXE))
    page = context.new_page()
    login(page, username)
    return page


def _overflow(page: Any) -> str:
    """'' when nothing sticks out sideways; else the page's widths and the widest elements that do."""
    return page.evaluate(
        """() => {
          const root = document.documentElement;
          if (root.scrollWidth <= root.clientWidth) return "";
          const wide = [...document.querySelectorAll("body *")]
            .filter(e => e.getBoundingClientRect().right > root.clientWidth + 1)
            .slice(-5)
            .map(e => {
              const path = [];
              for (let n = e; n && n !== document.body; n = n.parentElement) {
                path.unshift(`${n.tagName.toLowerCase()}.${n.className}`);
              }
              return `${path.join(" > ")}: ${Math.round(e.getBoundingClientRect().right)}`;
            });
          return `scrollWidth ${root.scrollWidth} > clientWidth ${root.clientWidth}: ${wide.join("; ")}`;
        }"""
    )


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_reflows_and_passes_axe(browser: Any, web_url: str, size: str) -> None:
    failures = []
    for username, paths in PAGES.items():
        page = _page(browser, web_url, size, username)
        for path in paths:
            response = page.goto(path)
            assert response.status == 200, f"{username} {path}: {response.status}"
            page.wait_for_load_state()
            name = f"reflow-{size}-{username}{path.replace('/', '-')}"
            if problem := _overflow(page):
                failures.append(f"{username} {path}: {problem}")
            if size != "320px":  # axe at 390 px and 200 % (item 12); 320 px is the reflow check
                check_accessibility(page, name)
            elif path == f"/vacatures/{VACANCY}":
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        page.context.close()
    assert not failures, "\n".join(failures)


def test_tables_become_labelled_cards_on_a_phone(browser: Any, web_url: str) -> None:
    page = _page(browser, web_url, "320px", "consulent1")
    page.goto("/voorstellen")
    cell = page.locator("table.table tbody tr").first.locator("td").nth(1)
    assert cell.get_attribute("data-label") == "Klant"
    label = cell.evaluate("e => getComputedStyle(e, '::before').content")
    assert "Klant" in label, label  # the column's name stands before the value on the card
    assert page.locator("table.table tbody tr").first.evaluate("e => getComputedStyle(e).display") == "block"
    page.context.close()


def _tabs_until(page: Any, selector: str, limit: int = 400) -> int:
    """Tab presses from where focus is now until it is inside ``selector``."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => !!document.activeElement.closest({json.dumps(selector)})"):
            return presses
    raise AssertionError(f"{selector} not reached in {limit} Tab presses")


def test_skip_link_reaches_the_first_candidate_in_few_tab_presses(browser: Any, web_url: str) -> None:
    page = _page(browser, web_url, "desktop", "consulent1")
    page.goto(f"/vacatures/{VACANCY}")
    first = "#" + page.locator("li.candidate").first.get_attribute("id")
    without = _tabs_until(page, first)  # Tab through the header, the filters and everything above the list

    page.reload()
    to_link = _tabs_until(page, "a.skip-link[href='#kandidaten']")
    skip = page.locator("a.skip-link[href='#kandidaten']")
    assert skip.inner_text() == "Naar de kandidaten" and skip.is_visible()  # visible when it has focus
    page.keyboard.press("Enter")
    with_link = to_link + _tabs_until(page, first)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    counts = {"vacature": VACANCY, "tabZonderSkiplink": without, "tabMetSkiplink": with_link, "plusEnter": 1}
    (ARTIFACTS / "tab-presses-to-first-candidate.json").write_text(json.dumps(counts) + "\n", encoding="utf-8")
    assert with_link <= 4 < without, counts  # skip link: Tab, Tab, Enter, then at most two Tabs
    page.context.close()


def test_distance_field_reads_a_decimal_comma_and_refuses_what_is_no_number(browser: Any, web_url: str) -> None:
    page = _page(browser, web_url, "390px", "consulent1")
    page.goto(f"/vacatures/{VACANCY}")
    if not page.get_by_label("Straal (km)").is_visible():
        page.locator("summary", has_text="Filters").click()  # the filters are folded away until opened
    page.get_by_label("Straal (km)").fill("7,5")
    page.get_by_role("button", name="Filteren").click()
    page.wait_for_load_state()
    assert page.get_by_label("Straal (km)").input_value() == "7,5"  # kept as typed
    shown = page.locator("li.candidate h4").all_inner_texts()
    facts = " ".join(page.locator("li.candidate ul.meta").all_inner_texts())  # score, trede, route, distance
    distances = [float(text.replace(",", ".")) for text in re.findall(r"(\d+,\d) km", facts)]
    assert distances and max(distances) <= 7.5, distances  # 7.5 km, not 75: Nijmegen and Ede are left out
    assert not any(f"K-RF{index}" in " ".join(shown) for index in (2, 3)), shown

    with httpx.Client(base_url=web_url, timeout=60) as http:  # the API: the same list, numbers as JSON numbers
        token = http.post(
            "/api/v1/token", data={"username": "consulent1", "password": "consulent1-demo-wachtwoord"}
        ).json()["access_token"]
        listing = http.post(
            "/api/v1/matches/kandidaten",
            json={"vacatureId": VACANCY, "straalKm": 7.5},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
    numbers = [(item["afstandKm"], item["score"]) for item in listing["resultaten"]]
    # numbers stay JSON numbers (null where a distance is not shown: another consulent's client), never "4,3"
    assert numbers and all(isinstance(value, float | int | None) for pair in numbers for value in pair), numbers
    assert all(isinstance(score, float | int) for _, score in numbers), numbers
    on_page = {text.split()[1] for text in shown}  # the page may keep only the own clients ("Alleen mijn klanten")
    own = {item["klantId"] for item in listing["resultaten"] if item["eigenKlant"]}
    assert own <= on_page <= {item["klantId"] for item in listing["resultaten"]}, (on_page, listing["resultaten"])

    if not page.get_by_label("Straal (km)").is_visible():
        page.locator("summary", has_text="Filters").click()
    page.get_by_label("Straal (km)").fill("zeven")
    page.get_by_role("button", name="Filteren").click()
    field = page.get_by_label("Straal (km)")
    assert field.get_attribute("aria-invalid") == "true"
    assert "‘zeven’ is geen getal" in page.locator("#straal-fout").inner_text()
    check_accessibility(page, "kandidaten-straal-fout")
    page.context.close()


def test_consulent_pages_speak_plain_dutch(browser: Any, web_url: str) -> None:
    page = _page(browser, web_url, "390px", "consulent1")
    found = []
    for path in CONSULENT_PAGES:
        page.goto(path)
        text = page.locator("main").inner_text()
        found += [f"{path}: {match.group(0)!r}" for match in JARGON.finditer(text)]
        found += [f"{path}: decimal point {match.group(0)!r}" for match in DECIMAL_POINT.finditer(text)]
    assert not found, "\n".join(found)
    page.goto(f"/klanten/{LONG_ID}")  # the saved search's date, as a Dutch reader writes it
    saved = page.locator("table", has_text="Bewaard op").inner_text()
    assert re.search(rf"\b\d{{1,2}} ({'|'.join(MONTHS)}) \d{{4}}\b", saved), saved
    page.context.close()


def test_no_explanation_repeats_a_word() -> None:
    """'Werk vraagt veel veel lopen': every sentence about a beperking and a demand, for every aspect."""
    for aspect in ASPECTS:
        for status in (Status.HARD, Status.AANPASSING, Status.GEACCOMMODEERD):
            text = Aanpassing(aspect, status, ("jobcoach", "jobcarving")).tekst()
            assert not re.search(r"\b(\w+) \1\b", text, re.IGNORECASE), text
