"""Import of clients and vacancies from CSV and JSON into a real SQLite file."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from matching import geo, store
from matching.domain import AuditKenmerken, Client, ClientIn, ClientPersonalia, Vacancy
from matching.errors import ImportFileError, InvalidInputError
from matching.import_formats import AUDIT_FIELDS, COMPETENCE_COLUMNS, PERSONALIA_FIELDS, read_records
from matching.importer import ImportReport, RejectedRecord, import_file, validate_records
from matching.taxonomy import load_taxonomy
from matching.vocab import SECTOREN

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "data" / "samples"
HEADER = "klantNummer,consulent,trede,route,postcode,urenMin,urenMax,zelfbeschrijving"


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _csv(tmp_path: Path, *rows: str, header: str = HEADER, name: str = "klanten.csv") -> Path:
    return _write(tmp_path, name, "\n".join([header, *rows]) + "\n")


def _rows(engine: Engine, table: type[Client] | type[Vacancy]) -> list[Any]:
    with Session(engine) as session:
        return list(session.exec(select(table).order_by(table.id)))  # type: ignore[arg-type]


def _clients(engine: Engine) -> dict[str, Client]:
    return {row.client_nummer: row for row in _rows(engine, Client)}


def _content(row: Client | Vacancy) -> dict[str, Any]:
    return row.model_dump(exclude={"id", "updated_at"})


# ------------------------------------------------------------------------------------------ samples


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("clients", "clients.csv"),
        ("clients", "clients.json"),
        ("vacancies", "vacancies.csv"),
        ("vacancies", "vacancies.json"),
    ],
)
def test_sample_files_import_cleanly(engine: Engine, kind: str, name: str) -> None:
    report = import_file(engine, kind, SAMPLES / name)  # type: ignore[arg-type]

    assert report.rejected == []
    assert 5 <= report.created <= 8
    assert report.updated == 0
    assert len(_rows(engine, Client if kind == "clients" else Vacancy)) == report.created
    assert sorted(report.ids) == [row.id for row in _rows(engine, Client if kind == "clients" else Vacancy)]


@pytest.mark.parametrize(("kind", "table"), [("clients", Client), ("vacancies", Vacancy)])
def test_csv_and_json_give_the_same_rows(tmp_path: Path, kind: str, table: type[Client] | type[Vacancy]) -> None:
    engines = {}
    for suffix in ("csv", "json"):
        engines[suffix] = store.make_engine(f"sqlite:///{tmp_path}/{suffix}.db")
        store.init_db(engines[suffix])
        import_file(engines[suffix], kind, SAMPLES / f"{kind}.{suffix}")  # type: ignore[arg-type]

    from_csv = [_content(row) for row in _rows(engines["csv"], table)]
    from_json = [_content(row) for row in _rows(engines["json"], table)]
    assert from_csv == from_json
    if kind == "clients":
        with Session(engines["csv"]) as a, Session(engines["json"]) as b:
            for private in (ClientPersonalia, AuditKenmerken):
                rows_a = [row.model_dump() for row in a.exec(select(private))]
                assert rows_a == [row.model_dump() for row in b.exec(select(private))]
                assert rows_a
    for engine in engines.values():
        engine.dispose()


def test_samples_use_codes_from_the_reference_data() -> None:
    taxonomy = load_taxonomy()
    for kind in ("clients", "vacancies"):
        for _, record in read_records(SAMPLES / f"{kind}.json"):
            competences = [item["code"] for key in COMPETENCE_COLUMNS for item in record.get(key, [])]
            occupations = [item["beroepCode"] for item in record.get("werkervaring", [])]
            occupations += record.get("wensen", {}).get("beroepen", []) + [record.get("beroepCode", "orderpicker")]
            assert set(competences) <= set(taxonomy.competences), record
            assert set(occupations) <= set(taxonomy.occupations), record
            assert set(record.get("certificaten", [])) <= set(taxonomy.certificates), record
            assert set(record.get("wensen", {}).get("sectoren", [])) <= set(SECTOREN), record


def test_csv_flattening_reaches_the_nested_fields(engine: Engine) -> None:
    import_file(engine, "clients", SAMPLES / "clients.csv")
    client = _clients(engine)["K1000001"]

    assert client.competenties == [
        {"code": "orderpicken", "niveau": 3},
        {"code": "samenwerken", "niveau": 2},
        {"code": "heftruck_rijden", "niveau": 2},
    ]
    assert client.werkervaring == [
        {"beroepCode": "orderpicker", "jaren": 3.0},
        {"beroepCode": "magazijnmedewerker", "jaren": 1.5},
    ]
    assert client.vervoermiddel == ["fiets", "auto"]
    assert client.wensen["maxReisafstandKm"] == 15.0
    assert client.wensen["werktijdenUitgesloten"] == ["nacht"]
    assert _clients(engine)["K1000005"].beperkingen[0] == {"aspect": "prikkels", "ernst": 3, "categorie": "psychisch"}


def test_line_numbers_are_where_each_record_starts() -> None:
    json_lines = (SAMPLES / "clients.json").read_text(encoding="utf-8").splitlines()
    object_starts = [number for number, text in enumerate(json_lines, start=1) if text == "  {"]

    assert [line for line, _ in read_records(SAMPLES / "clients.json")] == object_starts
    assert [line for line, _ in read_records(SAMPLES / "clients.csv")] == list(range(2, 9))


# ------------------------------------------------------------------------------------------- upsert


def test_second_import_updates_by_external_id(engine: Engine, tmp_path: Path) -> None:
    first = import_file(engine, "clients", SAMPLES / "clients.csv")
    records = json.loads((SAMPLES / "clients.json").read_text(encoding="utf-8"))
    records[0]["urenMax"] = 38
    changed = _write(tmp_path, "bijgewerkt.json", json.dumps(records))

    second = import_file(engine, "clients", changed)

    assert (second.created, second.updated) == (0, first.created)
    assert sorted(second.ids) == sorted(first.ids)
    clients = _clients(engine)
    assert len(clients) == first.created
    assert clients["K1000001"].uren_max == 38


def test_reimport_without_personalia_keeps_them(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, "clients", SAMPLES / "clients.csv")
    import_file(engine, "clients", _csv(tmp_path, "K1000001,consulent-b,4,werk,6811,24,36,"))

    with Session(engine) as session:
        client = session.exec(select(Client).where(Client.client_nummer == "K1000001")).one()
        personalia = session.get(ClientPersonalia, client.id)
        assert client.consulent == "consulent-b"
        assert personalia is not None and personalia.voornaam == "Sanne"


# ----------------------------------------------------------------------------------------- rejected


def test_rejected_rows_report_line_and_dutch_reason_while_valid_rows_are_stored(engine: Engine, tmp_path: Path) -> None:
    assert not geo.pc4_exists("1000")  # no PC4 area 1000 exists (Amsterdam starts at 1011)
    path = _csv(
        tmp_path,
        'K0000001,consulent-a,4,werk,6811AB,24,36,"Twee regels:\nmagazijn en schoonmaak"',  # lines 2-3
        "K0000002,consulent-a,7,werk,6821,24,36,",  # line 4
        "K0000003,consulent-a,4,werk,6822,30,20,",  # line 5
        "K0000004,consulent-a,4,werk,0000,24,36,",  # line 6
        "K0000005,consulent-a,4,werk,1000,24,36,",  # line 7
        "123456789,consulent-a,4,werk,6832,24,36,",  # line 8
        "K0000006,consulent-b,3,perspectief,6841,0,20,",  # line 9
    )

    report = import_file(engine, "clients", path)

    assert [(item.line, item.external_id) for item in report.rejected] == [
        (4, "K0000002"),
        (5, "K0000003"),
        (6, "K0000004"),
        (7, "K0000005"),
        (8, None),  # what may be a real BSN is never echoed
    ]
    reasons = [item.reasons for item in report.rejected]
    assert reasons[0] == ["trede: 7 is geen geldige trede; kies 0 t/m 5"]
    assert reasons[1] == ["urenMin (30) is groter dan urenMax (20)"]
    assert reasons[2] == ["postcode: '0000' is geen geldige postcode; gebruik 4 cijfers, eventueel met 2 letters"]
    assert reasons[3] == ["postcode: postcode '1000' bestaat niet (onbekend postcodegebied 1000)"]
    assert "BSN" in reasons[4][0]
    assert (report.created, report.updated) == (2, 0)
    assert sorted(_clients(engine)) == ["K0000001", "K0000006"]
    assert _clients(engine)["K0000001"].zelfbeschrijving == "Twee regels:\nmagazijn en schoonmaak"


def test_json_rejections_name_the_line_where_the_record_starts(engine: Engine, tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        [
          {"klantNummer": "K1", "consulent": "a", "trede": 4, "route": "werk", "postcode": "6811"},
          {
            "klantNummer": "K2",
            "consulent": "a",
            "trede": 9,
            "route": "werk",
            "postcode": "6811"
          },
          {"klantNummer": "K3", "consulent": "a", "trede": 4, "route": "werk", "postcode": "6811", "x": 1}
        ]
        """
    )
    report = import_file(engine, "clients", _write(tmp_path, "klanten.json", text))

    assert [(item.line, item.reasons) for item in report.rejected] == [
        (3, ["trede: 9 is geen geldige trede; kies 0 t/m 5"]),
        (10, ["x: onbekend veld of kolom; controleer de schrijfwijze of laat het weg"]),
    ]
    assert report.created == 1


def test_duplicate_external_id_rejects_the_later_row(engine: Engine, tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "K0000001,consulent-a,4,werk,6811,24,36,eerste",
        "K0000002,consulent-a,4,werk,6811,24,36,",
        "K0000001,consulent-a,4,werk,6811,24,36,tweede",
    )
    report = import_file(engine, "clients", path)

    assert report.rejected == [
        RejectedRecord(
            4,
            "K0000001",
            ["klantnummer K0000001 staat al op regel 2; geef elk klantnummer maar één keer op in een bestand"],
        )
    ]
    assert _clients(engine)["K0000001"].zelfbeschrijving == "eerste"


def test_incomplete_rows_are_stored(engine: Engine, tmp_path: Path) -> None:
    header = HEADER + ",opleidingsniveau,competenties,wensBeroepen,wensMaxReisafstandKm,beperkingen"
    report = import_file(
        engine, "clients", _csv(tmp_path, "K0000001,consulent-a,2,meedoen,6951,,,,,,,,", header=header)
    )

    assert report.rejected == [] and report.created == 1
    client = _clients(engine)["K0000001"]
    assert (client.uren_min, client.uren_max) == (0, 40)  # schema defaults
    assert client.opleidingsniveau is None and client.competenties == [] and client.beperkingen == []
    assert client.wensen["beroepen"] == [] and client.wensen["maxReisafstandKm"] is None
    assert {"competenties", "opleidingsniveau", "gewenste beroepen"} <= set(client.missing_fields())


def test_json_null_means_not_given(engine: Engine, tmp_path: Path) -> None:
    record = {"klantNummer": "K1", "consulent": "a", "trede": 4, "route": "werk", "postcode": "6811"}
    record |= {"urenMax": None, "opleidingsniveau": None, "wensen": {"maxReisafstandKm": None}}
    report = import_file(engine, "clients", _write(tmp_path, "k.json", json.dumps([record])))

    assert report.rejected == []
    assert _clients(engine)["K1"].uren_max == 40


def test_dutch_excel_csv_with_bom_semicolons_decimal_comma_and_dutch_dates(engine: Engine, tmp_path: Path) -> None:
    header = "klantNummer;consulent;trede;route;postcode;werkervaring;wensMaxReisafstandKm;beschikbaarPer"
    row = 'K0000001;consulent-a;4;werk;6811;"orderpicker:2,5;schoonmaker:1";12,5;01-03-2027'
    path = _write(tmp_path, "excel.csv", ("\ufeff" + header + "\r\n" + row + "\r\n").encode("utf-8"))

    report = import_file(engine, "clients", path)

    assert report.rejected == []
    client = _clients(engine)["K0000001"]
    assert client.werkervaring[0] == {"beroepCode": "orderpicker", "jaren": 2.5}
    assert client.wensen["maxReisafstandKm"] == 12.5
    assert client.beschikbaar_per is not None and client.beschikbaar_per.isoformat() == "2027-03-01"


def test_jsonl_lines_are_physical_lines(engine: Engine, tmp_path: Path) -> None:
    good = {"vacatureNummer": "V1", "bron": "WSP", "werkgever": "W", "titel": "T", "postcode": "6902"}
    bad = good | {"vacatureNummer": "V2", "jobcoach": "misschien"}
    path = _write(tmp_path, "v.jsonl", json.dumps(good) + "\n\n" + json.dumps(bad) + "\n")

    report = import_file(engine, "vacancies", path)

    assert report.rejected == [RejectedRecord(3, "V2", ["jobcoach: moet ja of nee zijn, niet 'misschien'"])]
    assert report.created == 1


def test_unknown_column_rejects_the_row_in_dutch(engine: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path, "K0000001,consulent-a,4,werk,6811,24,36,,vrij", header=HEADER + ",hobby")
    report = import_file(engine, "clients", path)

    assert report.rejected[0].reasons == ["hobby: onbekend veld of kolom; controleer de schrijfwijze of laat het weg"]


# ---------------------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("latin1.csv", (HEADER + "\nK1,consulent-é,4,werk,6811,24,36,\n").encode("latin-1"), "geen UTF-8"),
        ("leeg.csv", b"", "is leeg"),
        ("spaties.json", b"  \n ", "is leeg"),
        ("kapot.json", b'[{"klantNummer": "K1",}]', "geen geldige JSON (regel 1, kolom 23"),
        ("object.json", b'{"klantNummer": "K1"}', "JSON-lijst van objecten"),
        ("tekst.json", b'[{"klantNummer": "K1"},\n "K2"]', "record 2 (regel 2) is tekst, geen object"),
        ("kapot.jsonl", b'{"klantNummer": "K1"}\n{kapot\n', "regel 2 is geen geldige JSON"),
        ("geenkop.csv", b"K1,consulent-a,4,werk,6811\n", "geen kopregel"),
        ("kolommen.csv", (HEADER + "\nK1,consulent-a,4,werk,6811,24,36,\nK2,a,4\n").encode(), "regel 3: 3 kolommen"),
        ("dubbel.csv", b"klantNummer,trede,trede\nK1,4,4\n", "kolom trede staat meer dan eens"),
        ("quote.csv", (HEADER + '\nK1,consulent-a,4,werk,6811,24,36,"open\n').encode(), "ongeldige CSV"),
        ("lijst.xlsx", b"PK\x03\x04", "onbekend type '.xlsx'"),
    ],
)
def test_malformed_files_raise_import_file_error_in_dutch(
    engine: Engine, tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = _write(tmp_path, name, content)
    with pytest.raises(ImportFileError) as caught:
        import_file(engine, "clients", path)

    message = str(caught.value)
    assert expected in message
    assert f"'{path}'" in message
    message = message.replace(str(path), "")
    for english in ("Expecting", "line", "column", "delimiter", "unexpected", "error"):
        assert english not in message
    assert _rows(engine, Client) == []


def test_missing_file_and_unknown_kind(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="bestaat niet"):
        read_records(tmp_path / "weg.csv")
    with pytest.raises(InvalidInputError, match="onbekende soort import 'klanten'"):
        import_file(engine, "klanten", SAMPLES / "clients.csv")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------- private columns


def test_personalia_and_audit_land_in_their_own_tables(engine: Engine) -> None:
    import_file(engine, "clients", SAMPLES / "clients.csv")

    assert not (set(Client.model_fields) | set(ClientIn.model_fields)) & {*PERSONALIA_FIELDS, *AUDIT_FIELDS}
    with Session(engine) as session:
        client = session.exec(select(Client).where(Client.client_nummer == "K1000001")).one()
        personalia = session.get(ClientPersonalia, client.id)
        audit = session.get(AuditKenmerken, client.id)
        assert personalia is not None and audit is not None
        assert (personalia.voornaam, personalia.achternaam) == ("Sanne", "de Vries")
        assert personalia.email == "sanne.devries@example.org"
        assert (audit.geslacht, audit.geboortejaar, audit.migratieachtergrond) == ("vrouw", 1988, "geen")
        stored = json.dumps(_content(client), default=str)
        for value in ("Sanne", "de Vries", "sanne.devries", "0612345678", "vrouw", "1988"):
            assert value not in stored
        # a client without personalia or audit columns gets no rows there
        bare = session.exec(select(Client).where(Client.client_nummer == "K1000003")).one()
        assert session.get(ClientPersonalia, bare.id) is None and session.get(AuditKenmerken, bare.id) is None


def test_invalid_audit_value_rejects_the_row(tmp_path: Path) -> None:
    records = read_records(
        _csv(tmp_path, "K1,consulent-a,4,werk,6811,24,36,,negentig", header=HEADER + ",geboortejaar")
    )
    valid, rejected = validate_records("clients", records)

    assert valid == []
    assert rejected[0].reasons == ["geboortejaar: moet een geheel getal zijn"]


def test_personalia_columns_are_unknown_for_vacancies(tmp_path: Path) -> None:
    record = {"vacatureNummer": "V1", "bron": "WSP", "werkgever": "W", "titel": "T", "postcode": "6902"}
    _, rejected = validate_records("vacancies", [(2, record | {"voornaam": "Sanne"})])

    assert rejected[0].reasons == ["voornaam: onbekend veld of kolom; controleer de schrijfwijze of laat het weg"]


# --------------------------------------------------------------------------------------- atomicity


def test_crash_mid_import_leaves_the_database_as_before(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_file(engine, "clients", _csv(tmp_path, "K0000001,consulent-a,4,werk,6811,24,36,oud", name="eerder.csv"))
    before = {number: _content(row) for number, row in _clients(engine).items()}
    path = _csv(
        tmp_path,
        "K0000001,consulent-b,4,werk,6811,24,36,nieuw",
        "K0000002,consulent-a,4,werk,6821,24,36,",
        "K0000003,consulent-a,4,werk,6822,24,36,",
        "K0000004,consulent-a,4,werk,6832,24,36,",
    )
    original = store.upsert_client
    calls: list[str] = []

    def crash_on_third(session: Session, data: ClientIn) -> tuple[Client, bool]:
        calls.append(data.client_nummer)
        if len(calls) == 3:
            raise OSError("schijf vol")
        return original(session, data)

    monkeypatch.setattr(store, "upsert_client", crash_on_third)
    with pytest.raises(OSError, match="schijf vol"):
        import_file(engine, "clients", path)

    assert calls == ["K0000001", "K0000002", "K0000003"]
    assert {number: _content(row) for number, row in _clients(engine).items()} == before


def test_killed_process_mid_import_stores_nothing(tmp_path: Path) -> None:
    """A real SIGKILL after two flushed upserts: SQLite must hold nothing from the file."""
    script = textwrap.dedent(
        """\
        import os, signal, sys
        from pathlib import Path
        from matching import store
        from matching.importer import import_file

        original, calls = store.upsert_client, []

        def dying(session, data):
            calls.append(data)
            if len(calls) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            return original(session, data)

        store.upsert_client = dying
        engine = store.make_engine(sys.argv[1])
        store.init_db(engine)
        import_file(engine, "clients", Path(sys.argv[2]))
        """
    )
    url = f"sqlite:///{tmp_path}/t.db"
    done = subprocess.run(
        [sys.executable, "-c", script, url, str(SAMPLES / "clients.csv")], cwd=ROOT, capture_output=True, timeout=120
    )

    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    engine = store.make_engine(url)
    store.init_db(engine)
    assert _rows(engine, Client) == []
    with Session(engine) as session:
        assert list(session.exec(select(ClientPersonalia))) == []
    engine.dispose()


# ------------------------------------------------------------------------------------------ report


def test_report_to_json_uses_camel_case() -> None:
    report = ImportReport(created=2, updated=1, rejected=[RejectedRecord(4, "K1", ["trede: ontbreekt"])], ids=[1, 2, 3])

    assert report.to_json() == {
        "created": 2,
        "updated": 1,
        "rejected": [{"line": 4, "externalId": "K1", "reasons": ["trede: ontbreekt"]}],
        "ids": [1, 2, 3],
    }


# ---------------------------------------------------------------------------- issue 15: hostile files


@pytest.mark.parametrize("depth", [2_000, 100_000])
@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_json_nested_thousands_deep_is_a_dutch_file_error(
    engine: Engine, tmp_path: Path, depth: int, suffix: str
) -> None:
    # The audit's 2,000-deep import raised RecursionError (a 500 in the API).
    nested = '{"klantNummer": "K1", "x": ' + "[" * depth + "]" * depth + "}"
    path = _write(tmp_path, f"diep{suffix}", f"[{nested}]" if suffix == ".json" else nested + "\n")
    with pytest.raises(ImportFileError, match="te diep genest"):
        import_file(engine, "clients", path)
    assert _rows(engine, Client) == []


def test_rows_with_unknown_codes_are_rejected_with_line_and_code(engine: Engine, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "codes.csv",
        "klantNummer,consulent,trede,route,postcode,competenties,certificaten,wensBeroepen\n"
        "K1,wc-a,4,werk,6811,orderpicken:3,vca_basis,orderpicker\n"
        'K2,wc-a,4,werk,6811,"=HYPERLINK(""x"")",,\n'
        "K3,wc-a,4,werk,6811,orderpicken,brevet,astronaut\n",
    )
    report = import_file(engine, "clients", path)
    assert sorted(_clients(engine)) == ["K1"]
    assert [(item.line, item.external_id) for item in report.rejected] == [(3, "K2"), (4, "K3")]
    assert report.rejected[0].reasons == [
        "competenties[1].code: onbekende competentiecode '=HYPERLINK(\"x\")'; zie data/competenties.csv"
    ]
    assert [reason.split(":")[0] for reason in report.rejected[1].reasons] == ["certificaten[1]", "wensen.beroepen[1]"]


def test_a_lone_surrogate_or_nul_in_a_json_record_rejects_the_row_without_echoing_it(
    engine: Engine, tmp_path: Path
) -> None:
    record = '{"klantNummer": "K\\ud800", "consulent": "wc-a", "trede": 4, "route": "werk", "postcode": "6811"}'
    nul = '{"klantNummer": "K2", "consulent": "wc-a", "trede": 4, "route": "werk", "postcode": "6811", '
    nul += '"zelfbeschrijving": "a\\u0000b"}'
    report = import_file(engine, "clients", _write(tmp_path, "raar.jsonl", record + "\n" + nul + "\n"))
    assert _rows(engine, Client) == []
    first, second = report.rejected
    assert first.external_id == "K\\ud800"
    json.dumps(report.to_json(), ensure_ascii=False).encode("utf-8")  # the report can be sent and printed
    assert second.reasons == [
        "zelfbeschrijving: bevat een onzichtbaar stuurteken (U+0000) dat niet in tekst hoort; verwijder het"
    ]


def test_the_old_column_name_clientnummer_is_still_read_until_api_3(engine: Engine, tmp_path: Path) -> None:
    """API 2.0.0 renamed ``clientNummer`` to ``klantNummer``; import files may use either (README, Changelog)."""
    old_csv = _csv(
        tmp_path, "K-OUD-1,consulent-a,4,werk,6811,24,36,", header=HEADER.replace("klantNummer", "clientNummer")
    )
    record = {"clientNummer": "K-OUD-2", "consulent": "a", "trede": 4, "route": "werk", "postcode": "6811"}
    both = record | {"clientNummer": "K-OUD-3", "klantNummer": "K-NIEUW-3"}

    assert import_file(engine, "clients", old_csv).rejected == []
    assert import_file(engine, "clients", _write(tmp_path, "oud.json", json.dumps([record]))).rejected == []
    refused = import_file(engine, "clients", _write(tmp_path, "beide.json", json.dumps([both]))).rejected
    assert {"K-OUD-1", "K-OUD-2"} <= set(_clients(engine)) and "K-NIEUW-3" not in _clients(engine)
    assert [(r.external_id, r.reasons[0][:13]) for r in refused] == [("K-NIEUW-3", "clientNummer:")]
