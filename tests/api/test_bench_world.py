"""``werkmatch bench search --scale-clients N`` makes its scaled copy's database at the code's schema version.

Made by the matcher alone (:func:`matching.store.init_db`, ``create_all`` without a version), an older copy could
not be upgraded later: ``werkmatch db upgrade`` adopted it at ``0001`` and failed on a column it already had
(the national bench world of session 31 needed a hand repair). :func:`api.cli.models.scale_world` makes it as
every werkmatch database is made. Real SQLite, real migrations; the synthetic writer fills it as the bench does.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, func, select

from api.cli.models import scale_world
from api.services import migrations, schema
from matching.domain import Client, Vacancy
from matching.store import init_db, make_engine
from tests.factories import app_settings
from training.synthetic import write_streaming


def test_a_scaled_bench_world_is_made_at_the_codes_version_and_upgrades_as_a_no_op(tmp_path: Path) -> None:
    config = app_settings(tmp_path / "var")
    scale = scale_world(config, 30)
    assert scale.data_dir == config.data_dir / "bench-30" and scale.data_dir.is_dir()
    engine = make_engine(scale.resolved_database_url)
    try:
        init_db(engine)  # what the bench's matcher does next (training.benchmark.prepare_scale_data)
        write_streaming(engine, 30, 12, seed=3, progress=False)
        assert migrations.current(engine) == migrations.head()
        assert schema.upgrade(engine) == (migrations.head(), migrations.head())  # werkmatch db upgrade: nothing to do
        with Session(engine) as session:
            assert session.exec(select(func.count()).select_from(Client)).one() == 30
            assert session.exec(select(func.count()).select_from(Vacancy)).one() == 12
        assert scale_world(config, 30).data_dir == scale.data_dir  # made again over the same copy: kept
        assert migrations.current(engine) == migrations.head()
    finally:
        engine.dispose()
