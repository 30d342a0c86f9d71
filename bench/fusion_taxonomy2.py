"""Session 37's taxonomy gate with its three fixes (issue 19, item 3), chosen on the *tuning* halves of data/eval
by session 37's rule, and decided on a set written apart after this module was committed.

Session 38. Session 37's pick (``bench/fusion_taxonomy.py``: the taxonomy gate, lexical × 0.5, identifier-token
BM25) held 9 of 10 tuning halves and 9 of 10 held out within the tolerance, the served fusion's count. Its misses
(``bench/results/fusion-taxonomy-s37-misses.json``) point to three fixes, each written down here before any run:

(a) **Negation after the term**, in queries and documents: an identifier is also negated when *niet*, or *geen*
    not before *probleem*/*bezwaar*, follows it in its clause with at most :data:`AFTER_WINDOW` tokens in
    between, each a word of :data:`AFTER_FILLERS` (the joins *en*/*of* among them) or a token of another
    identifier, and the negation word is not itself followed by an identifier (that one it negates: "VCA en geen
    BHV"): "VCA is niet nodig", "VCA heeft hij niet en CE ook niet", "Rijbewijs B is geen eis",
    "heftruckcertificaat nog niet"; not "VOG geen probleem", not "VCA en wil niet tillen". So does a phrase of
    :data:`PROVIDED_AFTER` standing there the same way, saying the employer provides it ("BHV halen we samen",
    "de VCA-cursus betalen wij"). Session 37's negation before the term (*geen*, *nog geen*, *zonder*, *niet*
    within four tokens) and right after it (*in aanvraag*, *aangevraagd*, *verlopen*) stay as they were.
(b) **Ordinary BM25 whenever the gate is closed**: a closed gate gives the served fusion over ordinary BM25
    (:func:`matching.scoring.fuse`), whatever BM25 the open gate reads (session 37's pick read the
    identifier-token BM25 also when closed: its ``nl_notities`` held-out loss, "ervr ICT hobby").
(c) **Codes**: identifiers are session 37's taxonomy identifiers *and* session 36's hyphenated codes with
    digits (:func:`codes`): a token of two or more parts joined by hyphens, holding a digit and a letter, its
    letters all capitals ("AZ-900", "MS-102", "ISO-9001", "NEN-3140", "LPIC-1"; not "A2-niveau", "2-ploegen",
    "32-38u"), emitted as ``code:`` + the lower-cased code; negated by the same rules as the rest.

Candidates (a small grid, fixed here):

1. session 37's eleven, unchanged (:func:`bench.fusion_taxonomy.candidates`: the served fusion first, session
   36's pick, session 37's taxonomy gate at 0.5/1/2 over three BM25s);
2. the **fixed taxonomy gate**: lexical's weight becomes ``R`` (dense's being 1) for a query with at least one
   held identifier whose BM25 first document (of the BM25 the gate reads) holds every one of them and none of
   the query's negated ones (:func:`gate_opens`, identifiers and negation by (a)); else (b) the served fusion
   over ordinary BM25. R in :data:`GATE_WEIGHTS`, × identifiers without or with (c) (:data:`KINDS`), × the BM25
   the open gate reads: ordinary or session 36's identifier tokens. 11 + 12 = 23 candidates.

The bar per half is session 37's: the best of dense and its three BM25s (ordinary, identifier tokens,
negation-stripped), the same for every candidate (:func:`bench.fusion_identifiers.against_bar`).

The rule (session 37's, unchanged, written before any run and before the twelfth set existed):

1. **most tuning halves held**, a half counting as held when hybrid MRR ≥ bar − :data:`TOLERANCE` (0.002, dense
   drift); the strict count (margin ≥ 0) reported beside it, not chosen by;
2. among those, the largest worst margin; 3. worst margins within 0.001 count as tied, the largest mean margin
   wins, the served fusion on an exact tie (:func:`bench.fusion_taxonomy.pick`).

Then ``--half heldout`` is run **once**; every candidate's rows are reported, none chosen by them. Nothing served
changes in this session: the report says whether the pick holds more held-out halves (within the tolerance) than
the served fusion in the same run *and* every held-out half within the tolerance; the lead decides.
``--misses`` (read after both runs) lists the queries whose answer's place differs between the served fusion,
session 37's pick and this run's pick.

**The extractor here is session 38's (:func:`identifiers`, with and without the codes of fix (c)), an earlier
version than the served one**, kept as a copy: the record of what this run read. The served extractor is session
42's, :mod:`matching.identifiers`, which :mod:`bench.fusion_taxonomy5` imports since session 45.

    flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m bench.fusion_taxonomy2 \\
        --half tuning > bench/results/fusion-taxonomy-s38-tuning.json
    (the same with ``--half heldout`` > bench/results/fusion-taxonomy-s38-heldout.json)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import fusion_identifiers, fusion_taxonomy, fusion_tuning
from bench.fusion_taxonomy import (
    BM25S,
    CLAUSE_ENDS,
    SERVED,
    TOKEN,
    _negated_after,
    _negated_positions,
    _rank,
    pick,
)
from bench.fusion_taxonomy import PICKED as S37_PICKED
from matching import scoring
from matching.settings import RetrievalSettings
from training.embedding_eval import read_pairs

COMMAND = "nice -n 12 .venv/bin/python -m bench.fusion_taxonomy2 --half {half}"
RESULTS = Path(__file__).resolve().parent / "results"
TUNING_RESULT = RESULTS / "fusion-taxonomy-s38-tuning.json"  # --misses reads the tuning run's pick from it
GATE_WEIGHTS = (0.5, 1.0, 2.0)  # lexical's weight (dense's is 1) when the gate opens
KINDS = ("taxonomy", "taxonomy + codes")  # identifiers without and with fix (c)
OPEN_BM25S = ("ordinary", "identifier tokens")  # the BM25 the open gate reads
AFTER_WINDOW = 5  # tokens after an identifier within which a negation after the term (a) must stand
AFTER_FILLERS = frozenset(
    {"is", "zijn", "heeft", "hebben", "heb", "hij", "zij", "ze", "je", "we", "wij", "u", "nog", "ook", "hoeft"}
    | {"hoef", "hoeven", "echt", "er", "nu", "dan", "en", "of"}
)
NOT_NEGATING_AFTER_GEEN = frozenset({"probleem", "bezwaar"})  # "VOG geen probleem": held
PROVIDED_AFTER = (  # the employer provides it: "BHV halen we samen", "de VCA-cursus betalen wij"
    ("halen", "we"),
    ("halen", "wij"),
    ("haal", "je", "bij", "ons"),
    ("betalen", "we"),
    ("betalen", "wij"),
    ("regelen", "we"),
    ("regelen", "wij"),
    ("krijg", "je"),
    ("leer", "je"),
    ("volg", "je"),
)
HYPHEN_CODE = re.compile(r"(?<![\w-])[^\W_]+(?:-[^\W_]+)+(?![\w-])")
MISSES_SETS = ("nl_bemiddeling", "nl_notities", "nl_sjablonen", "nl_spreektaal", "nl_eisen")


def codes(text: str) -> list[tuple[int, int, str]]:
    """(first character, end character, ``code:…``) of every hyphenated code with a digit of ``text`` (fix (c))."""
    found = []
    for match in HYPHEN_CODE.finditer(text):
        code = match.group()
        letters = [character for character in code if character.isalpha()]
        if any(c.isdigit() for c in code) and letters and all(c.isupper() for c in letters):
            found.append((match.start(), match.end(), "code:" + code.lower()))
    return found


def _negated_behind(folded: list[str], end: int, covered: set[int]) -> bool:
    """Fix (a): a negation after the identifier ending at token ``end`` (module docstring)."""
    for at in range(end, min(end + AFTER_WINDOW + 1, len(folded))):
        word = folded[at]
        if word in CLAUSE_ENDS:
            return False
        if word in ("niet", "geen"):  # not when it negates the identifier after it ("VCA en geen BHV")
            following = folded[at + 1] if at + 1 < len(folded) else ""
            return at + 1 not in covered and not (word == "geen" and following in NOT_NEGATING_AFTER_GEEN)
        if any(tuple(folded[at : at + len(phrase)]) == phrase for phrase in PROVIDED_AFTER):
            return True
        if at not in covered and word not in AFTER_FILLERS:
            return False
    return False


def identifiers(text: str, with_codes: bool) -> tuple[set[str], set[str]]:
    """(held, negated) identifiers of ``text`` with fix (a), and with fix (c) when ``with_codes``; one both held and
    negated counts as held (as :func:`bench.fusion_taxonomy.taxonomy_identifiers`)."""
    words, matches = fusion_taxonomy._classified(text)
    folded = [word.folded for word in words]
    if with_codes:
        spans = [match.span() for match in TOKEN.finditer(text)]
        negated_at = _negated_positions(folded)
        for first, last, code in codes(text):
            inside = [at for at, (start, end) in enumerate(spans) if start >= first and end <= last]
            if inside:
                start, end = inside[0], inside[-1] + 1
                matches.append((start, end, [code], start in negated_at or _negated_after(folded, end)))
    covered = {at for start, end, _, _ in matches for at in range(start, end)}
    held, negated = set(), set()
    for _, end, found, is_negated in matches:
        (negated if is_negated or _negated_behind(folded, end, covered) else held).update(found)
    return held, negated - held


def gate_opens(held: frozenset[str], negated: frozenset[str], documents_held: list[set[str]], lexical) -> bool:
    """The query holds identifiers, and BM25's first document holds all of them and none of its negated ones."""
    first = int(np.argmax(lexical))
    holds = documents_held[first]
    return bool(held) and lexical[first] > 0 and held <= holds and not negated & holds


@dataclass
class Query:
    """Session 37's query (``base``) with its identifiers and every document's under both :data:`KINDS`."""

    base: fusion_taxonomy.Query
    held: dict[str, frozenset[str]]
    negated: dict[str, frozenset[str]]
    documents_held: dict[str, list[set[str]]]

    @property
    def dense(self) -> np.ndarray:
        return self.base.dense

    @property
    def lexical(self) -> np.ndarray:
        return self.base.lexical

    def opens(self, kind: str, lexical: np.ndarray) -> bool:
        return gate_opens(self.held[kind], self.negated[kind], self.documents_held[kind], lexical)


Fusion = Callable[[Query], np.ndarray]


def _fixed_gate(weight: float, kind: str, bm25: str, weights: RetrievalSettings) -> Fusion:
    def fused(query: Query) -> np.ndarray:
        lexical = getattr(query.base, BM25S[bm25])
        if query.opens(kind, lexical):
            return fusion_tuning._z(query.dense) + weight * fusion_tuning._z(lexical)
        return scoring.fuse(query.dense, query.lexical, weights)  # fix (b): ordinary BM25 when closed

    return fused


def name(weight: float, kind: str, bm25: str) -> str:
    return f"s38 gate: lexical × {weight} when BM25's first holds them all ({kind}, negation after), {bm25}"


def candidates(weights: RetrievalSettings) -> dict[str, tuple[str, Fusion]]:
    """The module docstring's candidates, each with the BM25 it reads when the gate opens, the served first."""
    out: dict[str, tuple[str, Fusion]] = {
        earlier: (bm25, lambda q, fusion=fusion: fusion(q.base))
        for earlier, (bm25, fusion) in fusion_taxonomy.candidates(weights).items()
    }
    for kind in KINDS:
        for bm25 in OPEN_BM25S:
            for weight in GATE_WEIGHTS:
                out[name(weight, kind, bm25)] = (bm25, _fixed_gate(weight, kind, bm25, weights))
    return out


def load(embedder, half: str) -> tuple[dict[str, tuple[list[Query], np.ndarray]], dict[str, dict]]:
    """Session 37's :func:`bench.fusion_taxonomy.load`, each query with its identifiers under both kinds."""
    earlier, parts = fusion_taxonomy.load(embedder, half)
    sets = {}
    for file, (rows, answer) in earlier.items():
        queries, documents = read_pairs(fusion_identifiers.EVAL / file)
        unique = list(dict.fromkeys(documents))
        documents_held = {kind: [identifiers(text, kind != KINDS[0])[0] for text in unique] for kind in KINDS}
        out = []
        for text, base in zip(queries, rows, strict=True):
            found = {kind: identifiers(text, kind != KINDS[0]) for kind in KINDS}
            out.append(
                Query(
                    base,
                    {kind: frozenset(found[kind][0]) for kind in KINDS},
                    {kind: frozenset(found[kind][1]) for kind in KINDS},
                    documents_held,
                )
            )
        sets[file] = (out, answer)
        parts[file]["s38Identifiers"] = {kind: _gate_counts(out, answer, kind) for kind in KINDS}
    return sets, parts


def _gate_counts(rows: list[Query], answer: np.ndarray, kind: str) -> dict:
    """Queries with identifiers (and negated ones) of ``kind``, and whether the gate (ordinary BM25) opens on a
    right or a wrong BM25 first."""
    counts = {"queries": len(rows), "withIdentifiers": 0, "withNegated": 0, "answerHoldsAll": 0}
    opens = {"right": 0, "wrong": 0}
    for query, right in zip(rows, answer, strict=True):
        counts["withNegated"] += int(bool(query.negated[kind]))
        if not query.held[kind]:
            continue
        counts["withIdentifiers"] += 1
        counts["answerHoldsAll"] += int(query.held[kind] <= query.documents_held[kind][right])
        if query.opens(kind, query.lexical):
            opens["right" if int(np.argmax(query.lexical)) == right else "wrong"] += 1
    counts["gateOpens"] = opens
    return counts


def misses(embedder, weights: RetrievalSettings) -> dict:
    """Per query of :data:`MISSES_SETS` (both halves) whose answer's place differs between the served fusion,
    session 37's pick, this run's and the fixed gate with codes that the rule ranks first among those six (both
    read from :data:`TUNING_RESULT`): the query, its identifiers (with codes) and the answer's place under each
    part and fusion. Read after both runs; nothing is chosen by it."""
    tuning = json.loads(TUNING_RESULT.read_text(encoding="utf-8"))
    with_codes = {key: one for key, one in tuning["candidates"].items() if key.startswith("s38") and KINDS[1] in key}
    compared = {"served": SERVED, "s37": S37_PICKED, "s38": tuning["picked"], "fixedWithCodes": pick(with_codes)}

    def described(query: Query, right: int) -> dict:
        parts = {"dense": query.dense, "bm25": query.lexical, "bm25Identifiers": query.base.lexical_identifiers}
        return {
            "held": sorted(query.held[KINDS[1]]),
            "negated": sorted(query.negated[KINDS[1]]),
            **{key: _rank(values, right) for key, values in parts.items()},
        }

    return {
        "s38Pick": compared["s38"],
        "fixedWithCodes": compared["fixedWithCodes"],
        **fusion_taxonomy.places_that_differ(embedder, load, candidates(weights), compared, MISSES_SETS, described),
    }


def main() -> None:
    fusion_taxonomy.run(__doc__, COMMAND, load, candidates, misses)


if __name__ == "__main__":
    main()
