"""Page times of "own clients first" (issue 18 item 1) on a demo world, in process.

The vacancy list as consulent1 (with "eigen klanten die passen" per vacancy: step 1 of the search
for the 25 shown vacancies) against the same list as the accountmanager (no counts), the counts
alone, and a candidate page with "alleen mijn klanten" on and off. Interleaved, so both variants
see the same load on a shared machine. Writes bench/results/own-clients-pages.json.

    WERKMATCH_DATA_DIR=/tmp/wm-copy .venv/bin/python bench/own_clients_pages.py --rounds 10
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.app import create_app
from api.services.users import User
from api.web import shortlist
from matching.domain import Vacancy
from matching.matcher import Matcher
from matching.settings import Settings

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results"


def web_client(app: Any, username: str) -> TestClient:
    client = TestClient(app)
    client.__enter__()
    response = client.post("/inloggen", data={"gebruikersnaam": username, "wachtwoord": f"{username}-demo-wachtwoord"})
    assert response.status_code == 200 and "/inloggen" not in str(response.url), response.text[:500]
    return client


def timed(client: TestClient, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    return time.perf_counter() - start


def summary(seconds: list[float]) -> dict[str, float]:
    return {"medianS": round(statistics.median(seconds), 3), "minS": round(min(seconds), 3), "n": len(seconds)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    settings = Settings()
    matcher = Matcher(settings)
    app = create_app(settings, matcher)
    consulent, manager = web_client(app, "consulent1"), web_client(app, "accountmanager")
    with Session(matcher.engine) as session:
        user = session.exec(select(User).where(User.username == "consulent1")).one()
        page = session.exec(
            select(Vacancy).where(Vacancy.status == "open").order_by(Vacancy.vacature_nummer).limit(25)
        ).all()
    counts = shortlist.own_counts(matcher, user, list(page))
    vacancy = max(counts, key=lambda key: counts[key])
    nummer = next(row.vacature_nummer for row in page if row.id == vacancy)
    times: dict[str, list[float]] = {key: [] for key in ("list_consulent", "list_manager", "counts", "own", "all")}
    timed(consulent, "/vacatures"), timed(manager, "/vacatures"), timed(consulent, f"/vacatures/{nummer}")  # warm
    for _ in range(args.rounds):
        times["list_consulent"].append(timed(consulent, "/vacatures"))
        times["list_manager"].append(timed(manager, "/vacatures"))
        start = time.perf_counter()
        shortlist.own_counts(matcher, user, list(page))
        times["counts"].append(time.perf_counter() - start)
        times["own"].append(timed(consulent, f"/vacatures/{nummer}"))
        times["all"].append(timed(consulent, f"/vacatures/{nummer}?eigen=nee"))
    result = {
        "command": "WERKMATCH_DATA_DIR=<copy of /tmp/wm-demo> .venv/bin/python bench/own_clients_pages.py "
        + " ".join(sys.argv[1:]),
        "world": "demo: 9,000 clients, 3,000 vacancies; consulent1 = the largest caseload",
        "caseload": user.consulent,
        "vacanciesOnPage": len(page),
        "ownClientsFitPerVacancy": sorted(counts.values()),
        "vacancyListAsConsulent": summary(times["list_consulent"]),
        "vacancyListAsAccountmanager": summary(times["list_manager"]),
        "ownCountsAlone": summary(times["counts"]),
        "candidatePage": {
            "vacancy": nummer,
            "alleenMijnKlanten": summary(times["own"]),
            "alleKlanten": summary(times["all"]),
        },
        "machine": "2 shared cores, other sessions working at the same time (interleaved rounds)",
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "own-clients-pages.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))  # noqa: T201 (a bench script's report)


if __name__ == "__main__":
    main()
