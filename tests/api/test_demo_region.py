"""The demo is a region of gemeenten (issue 14 item 4): records, consulenten and demo accounts per gemeente."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.cli import app as cli_app
from api.services import schema, users
from api.services.users import Rol, User
from matching.domain import Client, Vacancy
from matching.settings import Settings
from training.synthetic import write_streaming


def test_the_demo_is_the_region_with_consulenten_and_accounts_per_gemeente(engine: Engine, tmp_path: Path) -> None:
    schema.create_all(engine)
    write_streaming(engine, 400, 60, seed=3, progress=False, gemeenten=3)
    with Session(engine) as session:
        clients = session.exec(select(Client.gemeente, Client.consulent)).all()
        per_gemeente = Counter(gemeente for gemeente, _ in clients)
        assert set(per_gemeente) == {"Arnhem", "Rheden", "Zevenaar"}  # the three with the most clients
        for gemeente, code in clients:  # every caseload lies in one gemeente
            assert code.startswith("wc-" + gemeente.lower()), (gemeente, code)
        vacancies = session.exec(select(Vacancy.bron, Vacancy.gemeente)).all()
        assert {gemeente for bron, gemeente in vacancies if bron == "WSP"} == {None}  # the region's
        assert {gemeente for bron, gemeente in vacancies if bron == "Scalabor"} <= set(per_gemeente)  # the employer's

    made = users.create_demo_users(engine, Settings(data_dir=tmp_path))
    names = {account["username"]: account for account in made}
    held = {names["consulent1"]["consulent"], names["consulent2"]["consulent"]}
    for gemeente in per_gemeente:
        slug, codes = users.gemeente_slug(gemeente), {code for g, code in clients if g == gemeente}
        beheerder = names[f"beheerder-{slug}"]
        assert beheerder["gemeente"] == gemeente and beheerder["consulent"] is None
        consulent = names.get(f"consulent-{slug}")
        if consulent is None:  # every caseload of this gemeente is consulent1's or consulent2's
            assert codes <= held, (gemeente, codes)
            continue
        assert consulent["gemeente"] == gemeente and consulent["consulent"] in codes - held
    assert names["beheerder"]["gemeente"] is None and names["accountmanager"]["gemeente"] is None  # regional
    with Session(engine) as session:
        consulent1 = session.exec(select(User).where(User.username == "consulent1")).one()
        own = {g for g, code in clients if code == consulent1.consulent}
        assert consulent1.rol == Rol.WERKCONSULENT and own == {consulent1.gemeente}


def test_gemeente_slugs_are_usernames() -> None:
    assert users.gemeente_slug("'s-Hertogenbosch") == "s-hertogenbosch"
    assert users.gemeente_slug("Súdwest-Fryslân") == "sudwest-fryslan"
    assert users.gemeente_slug("Loo Gld") == "loo-gld"


@pytest.mark.parametrize("count", ["0", "11"])
def test_an_impossible_number_of_gemeenten_is_one_dutch_line(
    count: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path))
    done = CliRunner().invoke(cli_app, ["demo-data", "--clients", "10", "--vacancies", "5", "--gemeenten", count])
    assert done.exit_code in (1, 2)  # 0: typer's own range check (usage error), 11: the region has 10
    if count == "11":
        assert done.exit_code == 1
        assert done.output.strip().splitlines()[-1] == (
            "Fout: --gemeenten moet tussen 1 en 10 liggen (de regio Arnhem), niet 11"
        )


def test_the_source_system_link_follows_the_clients_gemeente(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        bronsysteem_url="https://regio.example/klant/{klantnummer}",
        bronsysteem_urls={"Duiven": "https://duiven.example/szeebra/{klantnummer}"},
    )
    assert settings.bronsysteem_link("K 1", "Duiven") == "https://duiven.example/szeebra/K%201"
    assert settings.bronsysteem_link("K1", "Zevenaar") == "https://regio.example/klant/K1"
    with pytest.raises(ValueError, match="klantnummer"):
        Settings(data_dir=tmp_path, bronsysteem_urls={"Duiven": "https://duiven.example/zonder-nummer"})
