"""Migration 0007 (the nightly batch's partitions by place), on SQLite and on the real PostgreSQL: a finished
night's lists made by id ranges stay readable, an unfinished run goes, and back to 0006."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text
from sqlmodel import Session

from api.services import audit_guard, migrations, schema
from matching.batch_lists import mark_of
from matching.store import make_engine
from tests.factories import make_client, make_vacancy


def test_0007_gives_a_finished_runs_owners_their_id_partition_and_drops_an_unfinished_run(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(migrations._config(connection), "0006")
    audit_guard.protect(engine)
    with Session(engine) as session:
        client, vacancy = make_client(session, client_nummer="K-0007"), make_vacancy(session, vacature_nummer="V-0007")
        ids = {"c": client.id, "k": client.id, "v": vacancy.id}
        for run, finished in ((1, "'2026-12-02'"), (2, "NULL")):
            session.execute(
                text(
                    "INSERT INTO batch_run (id, kind, partition_ids, started_at, finished_at) "
                    f"VALUES ({run}, 'match', 8, '2026-12-01', {finished})"
                )
            )
            for side, owner in (("vacatures", ids["v"]), ("klanten", ids["c"])):
                session.execute(
                    text(
                        "INSERT INTO batch_partition (run_id, side, first_id, lists, ranked_by, committed_at) "
                        "VALUES (:run, :side, :first, 1, '{}', '2026-12-01')"
                    ),
                    {"run": run, "side": side, "first": owner - owner % 8},
                )
            values = {"run": run, **ids}
            session.execute(
                text(
                    "INSERT INTO nacht_kandidaat (run_id, vacancy_id, rank, client_id, ranking_score, score) "
                    "VALUES (:run, :v, 1, :c, 0.5, 50)"
                ),
                values,
            )
            session.execute(
                text(
                    "INSERT INTO nacht_vacature (run_id, client_id, rank, vacancy_id, ranking_score, score) "
                    "VALUES (:run, :c, 1, :v, 0.5, 50)"
                ),
                values,
            )
        session.commit()
    schema.upgrade(engine)
    with Session(engine) as session:
        assert session.execute(text("SELECT id FROM batch_run")).scalars().all() == [1]
        owners = session.execute(text("SELECT run_id, side, owner_id, first_id FROM batch_owner ORDER BY side"))
        first = {side: owner - owner % 8 for side, owner in (("klanten", ids["c"]), ("vacatures", ids["v"]))}
        expected = [(1, side, ids[side[0]], first[side]) for side in ("klanten", "vacatures")]
        assert owners.all() == expected
        for side, owner in (("vacatures", ids["v"]), ("klanten", ids["c"])):
            mark = mark_of(session, 1, side, owner)
            assert mark is not None and mark.first_id == owner - owner % 8 and mark.cell is None
        assert session.execute(text("SELECT count(*) FROM nacht_kandidaat")).scalar_one() == 1
    with engine.begin() as connection:
        command.downgrade(migrations._config(connection), "0006")
    with Session(engine) as session:
        assert session.execute(text("SELECT count(*) FROM batch_run")).scalar_one() == 0
    engine.dispose()
