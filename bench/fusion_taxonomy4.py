"""Session 39's rare gate with rarity counted over the bestand and four extractor gaps closed (issue 19, item 3),
chosen on the *tuning* halves of data/eval by session 37's rule, and decided on a set written apart after this
module was committed.

Session 41. Session 39's pick (``bench/fusion_taxonomy3.py``: the rare gate × 2.0, an identifier at most 10 % of
the documents hold, codes + welding numbers) held every held-out half within the tolerance on a fourteenth set
written apart (``nl_voordracht``), but no better than the served fusion there. Its misses
(``bench/results/fusion-taxonomy-s40-misses.json``) and session 39's name these rules, written down here before any
run and before the fifteenth set existed:

(f) **Rarity over the bestand.** Session 39 counted how many of the *searched* documents (the half's file, in
    serving the pool) hold an identifier; a small file makes a common identifier rare (licence B: 3 of 57 vacancies
    in ``nl_voordracht`` tuning). Here it is counted over the **bestand**, every document a search of that set could
    return: the documents of both halves of the set (``nl_x_tuning.tsv`` and ``nl_x_heldout.tsv``; in serving the
    whole vacancy or client bestand). Only how many documents hold an identifier is read from the other half, never
    a query or an answer. The gate opens when one of the query's held identifiers, all of which BM25's first holds
    (session 38's condition), is held by at most a share ``s`` of the bestand (:data:`RARE_SHARES`), or by one
    document of the bestand only (:data:`BESTAND_ONLY`) (:func:`rare_gate_opens`).
(f2) **Two holders decide nothing.** An identifier two documents of the searched file hold cannot tell those two
    apart (session 39's "IPAF 3a/3b hoogwerker": 2 of 61 hold IPAF, BM25's first is the wrong one, and 2 ≤ 10 %
    of 61). So a variant of (f) also asks that BM25's first be the **only** searched document holding that rare
    identifier (:data:`POOL_UNIQUE`).
(g) **"Rijbewijs: C"**: a colon right after *rijbewijs*/*rijbewijzen*/*rbw* no longer ends the licence run
    ("Rijbewijs: B, T" holds B and T).
(h) **"X heeft kand./kl. niet", "nooit gehaald"**: the abbreviations *kand.*, *kl.*, *dhr.*, *mevr.*, *mw.* keep
    no full stop (their full stop ended the clause), and the subject words of :data:`SUBJECTS` (*kand*, *kandidaat*,
    *kl*, *klant*, *client*, *deelnemer*, *ik*, ...) may stand between an identifier and the negation after it
    (session 38's fix (a)); *nooit* negates as *niet* does, after the term ("reachtruckcertificaat nooit gehaald")
    and before it ("nooit VCA gehaald").
(i) **The -chauffeur forms**: *heftruckchauffeur*, *reachtruckchauffeur* (also with a space or hyphen, plural or
    *-chauffeuse*) are the forklift and reach-truck certificates, as ``data/certificaten.csv`` names them
    ("Certificaat heftruckchauffeur").

(g)–(i) together are the extractor :data:`S41_KIND` (session 39's taxonomy + codes + welding numbers with them).

Candidates (a small grid, fixed here):

1. session 39's fifty, unchanged (:func:`bench.fusion_taxonomy3.candidates`, the served fusion first);
2. session 39's rare gate (lexical × ``R`` when open, identifier-token BM25; the served fusion over ordinary BM25
   when closed) with session 39's identifiers (:data:`WELDING_KIND`) and the new rarities (:data:`NEW_RARITIES`:
   (f) at 5/10/20 %, (f)+(f2) at 5/10/20 %, one document of the bestand): 7 × 3 = 21;
3. the same gate with the new extractor :data:`S41_KIND` and every rarity (session 39's five, over the searched
   file, and the seven new ones): 12 × 3 = 36. R in :data:`GATE_WEIGHTS`. 50 + 21 + 36 = 107 candidates.

The bar per half is session 37's: the best of dense and its three BM25s (ordinary, identifier tokens,
negation-stripped), the same for every candidate (:func:`bench.fusion_identifiers.against_bar`).

The rule (session 37's, unchanged, written before any run and before the fifteenth set existed; now over the
fourteen or fifteen tuning halves):

1. **most tuning halves held**, a half counting as held when hybrid MRR ≥ bar − :data:`TOLERANCE` (0.002, dense
   drift); the strict count (margin ≥ 0) reported beside it, not chosen by;
2. among those, the largest worst margin; 3. worst margins within 0.001 count as tied, the largest mean margin
   wins, the earlier candidate (the served fusion first) on an exact tie (:func:`bench.fusion_taxonomy.pick`).

Then ``--half heldout`` is run **once**; every candidate's rows are reported, none chosen by them. Nothing served
changes in this session. ``--misses`` (read after both runs) lists, for every set, the queries whose answer's place
differs between the served fusion, session 39's pick and this run's pick.

**The extractor here is session 41's (:func:`identifiers`, ``S41_KIND``), an earlier version than the served one**,
kept as a copy: the record of what this run read. The served extractor is session 42's, :mod:`matching.identifiers`,
which :mod:`bench.fusion_taxonomy5` imports since session 45.

    flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m bench.fusion_taxonomy4 \\
        --half tuning > bench/results/fusion-taxonomy-s41-tuning.json
    (the same with ``--half heldout`` > bench/results/fusion-taxonomy-s41-heldout.json)
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import fusion_identifiers, fusion_taxonomy, fusion_taxonomy3, fusion_tuning
from bench.fusion_taxonomy import (
    BM25S,
    CLAUSE_ENDS,
    SERVED,
    TOKEN,
    WELDING_IN_CAPITALS,
    WELDING_WORDS,
    _negated_after,
    _rank,
    certificate_words,
    tokens,
)
from bench.fusion_taxonomy2 import AFTER_FILLERS, AFTER_WINDOW, NOT_NEGATING_AFTER_GEEN, PROVIDED_AFTER, codes
from bench.fusion_taxonomy3 import GATE_WEIGHTS, OPEN_BM25, RARITIES, WELDING_KIND, gate_opens, welding_numbers
from matching import scoring
from matching.settings import RetrievalSettings
from training.embedding_eval import read_pairs

COMMAND = "nice -n 12 .venv/bin/python -m bench.fusion_taxonomy4 --half {half}"
RESULTS = Path(__file__).resolve().parent / "results"
TUNING_RESULT = RESULTS / "fusion-taxonomy-s41-tuning.json"  # --misses reads the tuning run's pick from it
S39_TUNING_RESULT = RESULTS / "fusion-taxonomy-s39-tuning.json"  # session 39's pick
S41_KIND = "taxonomy + codes + welding numbers + s41 extractor"  # (g), (h), (i)
KINDS = (WELDING_KIND, S41_KIND)
RARE_SHARES = (0.05, 0.1, 0.2)  # (f): at most this share of the bestand holds it
BESTAND = "bestand"  # (f): a share of the bestand
POOL_UNIQUE = "bestand, only BM25's first of the searched documents"  # (f) + (f2)
BESTAND_ONLY = "one document of the bestand holds it"
NEW_RARITIES: tuple[tuple[str, float] | str, ...] = (
    *((BESTAND, share) for share in RARE_SHARES),
    *((POOL_UNIQUE, share) for share in RARE_SHARES),
    BESTAND_ONLY,
)
LICENCE_COLON = re.compile(r"\b(rijbewijs|rijbewijzen|rbw)\s*:", re.IGNORECASE)  # (g)
ABBREVIATIONS = re.compile(r"\b(kand|kl|dhr|mevr|mw)\.", re.IGNORECASE)  # (h): no clause end after these
SUBJECTS = frozenset(
    {"kand", "kandidaat", "kl", "klant", "client", "clienten", "deelnemer", "werkzoekende", "ik", "dhr", "mevr"}
    | {"mw", "meneer", "mevrouw", "hem", "haar", "die", "deze"}
)
NEGATIONS = ("geen", "zonder", "niet", "nooit")  # (h): session 37's with "nooit"
NEGATING_AFTER = ("niet", "geen", "nooit")
CHAUFFEUR_WORDS = ("chauffeur", "chauffeurs", "chauffeuse", "chauffeuses")  # (i)
CHAUFFEUR_STEMS = ("heftruck", "reachtruck")


def normalised(text: str) -> str:
    """``text`` with (g)'s colon after a licence word and (h)'s abbreviation full stops removed."""
    return ABBREVIATIONS.sub(r"\1", LICENCE_COLON.sub(r"\1 ", text))


def _negated_behind(folded: list[str], end: int, covered: set[int]) -> bool:
    """Session 38's fix (a) (:func:`bench.fusion_taxonomy2._negated_behind`) with (h): the subject words between,
    and *nooit* negating."""
    for at in range(end, min(end + AFTER_WINDOW + 1, len(folded))):
        word = folded[at]
        if word in CLAUSE_ENDS:
            return False
        if word in NEGATING_AFTER:  # not when it negates the identifier after it ("VCA en geen BHV")
            following = folded[at + 1] if at + 1 < len(folded) else ""
            return at + 1 not in covered and not (word == "geen" and following in NOT_NEGATING_AFTER_GEEN)
        if any(tuple(folded[at : at + len(phrase)]) == phrase for phrase in PROVIDED_AFTER):
            return True
        if at not in covered and word not in AFTER_FILLERS and word not in SUBJECTS:
            return False
    return False


def chauffeurs(folded: list[str]) -> list[tuple[int, int, list[str]]]:
    """(i): (first token, end token, certificate) of every heftruck/reachtruck -chauffeur form."""
    found = []
    for at, word in enumerate(folded):
        for stem in CHAUFFEUR_STEMS:
            if word in (stem + suffix for suffix in CHAUFFEUR_WORDS):
                found.append((at, at + 1, [certificate_words()[stem]]))
            elif word == stem and at + 1 < len(folded) and folded[at + 1] in CHAUFFEUR_WORDS:
                found.append((at, at + 2, [certificate_words()[stem]]))
    return found


def identifiers(text: str) -> tuple[set[str], set[str]]:
    """(held, negated) identifiers of ``text`` under :data:`S41_KIND`: session 39's taxonomy + codes + welding
    numbers (:func:`bench.fusion_taxonomy3.identifiers`) read from :func:`normalised` text, with (h)'s negation and
    (i)'s chauffeurs; one both held and negated counts as held."""
    text = normalised(text)
    words = tokens(text)
    folded = [word.folded for word in words]
    welding_text = bool(WELDING_WORDS & set(folded)) or any(word.text in WELDING_IN_CAPITALS for word in words)
    negated_at = fusion_taxonomy._negated_positions(folded, NEGATIONS)
    spans: list[tuple[int, int, list[str]]] = list(fusion_taxonomy._matches(words, welding_text))
    taken = {at for start, end, _ in spans for at in range(start, end)}
    spans += [one for one in chauffeurs(folded) if one[0] not in taken]
    characters = [match.span() for match in TOKEN.finditer(text)]
    for first, last, code in codes(text):  # session 38's fix (c)
        inside = [at for at, (start, end) in enumerate(characters) if start >= first and end <= last]
        if inside:
            spans.append((inside[0], inside[-1] + 1, [code]))
    spans += [(start, end, [number]) for start, end, number in welding_numbers(text)]  # session 39's fix (e)
    covered = {at for start, end, _ in spans for at in range(start, end)}
    held, negated = set(), set()
    for start, end, found in spans:
        is_negated = start in negated_at or _negated_after(folded, end) or _negated_behind(folded, end, covered)
        (negated if is_negated else held).update(found)
    return held, negated - held


def _identifiers(text: str, kind: str) -> tuple[set[str], set[str]]:
    return identifiers(text) if kind == S41_KIND else fusion_taxonomy3.identifiers(text, kind)


Rarity = float | str | tuple[str, float] | None


def rare_gate_opens(
    held: frozenset[str],
    negated: frozenset[str],
    documents_held: list[set[str]],
    holding: Counter,
    in_bestand: Counter,
    bestand: int,
    lexical: np.ndarray,
    rarity: Rarity,
) -> bool:
    """Session 38's gate (BM25's first of ``documents_held`` holds every held identifier and no negated one), and by
    ``rarity`` one held identifier few documents hold: session 39's rarities over the searched documents
    (``holding``, :func:`bench.fusion_taxonomy3.rare_gate_opens`), or (f)/(f2) over the ``bestand`` documents, of
    which ``in_bestand`` counts the holders per identifier."""
    if rarity in RARITIES:
        return fusion_taxonomy3.rare_gate_opens(held, negated, documents_held, holding, lexical, rarity)
    if not gate_opens(held, negated, documents_held, lexical):
        return False
    if rarity == BESTAND_ONLY:
        return any(in_bestand[found] == 1 for found in held)
    over, share = rarity
    rare = [found for found in held if in_bestand[found] <= share * bestand]
    if over == POOL_UNIQUE:
        rare = [found for found in rare if holding[found] == 1]  # BM25's first holds it: the only holder
    return bool(rare)


@dataclass
class Query(fusion_taxonomy3.Query):
    """Session 39's query with :data:`S41_KIND` among its kinds, and per kind how many documents of the set's
    bestand hold each identifier."""

    in_bestand: dict[str, Counter]
    bestand: int

    def opens_at(self, kind: str, lexical: np.ndarray, rarity: Rarity) -> bool:
        return rare_gate_opens(
            self.held[kind],
            self.negated[kind],
            self.documents_held[kind],
            self.holding[kind],
            self.in_bestand[kind],
            self.bestand,
            lexical,
            rarity,
        )


Fusion = Callable[[Query], np.ndarray]


def _rare_gate(weight: float, kind: str, rarity: Rarity, weights: RetrievalSettings) -> Fusion:
    def fused(query: Query) -> np.ndarray:
        lexical = getattr(query.base, BM25S[OPEN_BM25])
        if query.opens_at(kind, lexical, rarity):
            return fusion_tuning._z(query.dense) + weight * fusion_tuning._z(lexical)
        return scoring.fuse(query.dense, query.lexical, weights)  # session 38's fix (b)

    return fused


def rarity_name(rarity: Rarity) -> str:
    if rarity in RARITIES:
        return fusion_taxonomy3.rarity_name(rarity) + " (searched)"
    if rarity == BESTAND_ONLY:
        return BESTAND_ONLY
    over, share = rarity
    held_by = f"an identifier at most {share:.0%} of the bestand holds"
    return held_by if over == BESTAND else held_by + ", BM25's first its only searched holder"


def name(weight: float, kind: str, rarity: Rarity) -> str:
    return f"s41 gate: lexical × {weight} when BM25's first holds them all, {rarity_name(rarity)} ({kind}), {OPEN_BM25}"


def grid() -> list[tuple[str, Rarity]]:
    """(kind, rarity) of the new gates: session 39's identifiers with the new rarities, the new extractor with all."""
    return [(WELDING_KIND, rarity) for rarity in NEW_RARITIES] + [
        (S41_KIND, rarity) for rarity in (*RARITIES, *NEW_RARITIES)
    ]


def candidates(weights: RetrievalSettings) -> dict[str, tuple[str, Fusion]]:
    """The module docstring's candidates, each with the BM25 it reads when the gate opens, the served first."""
    out: dict[str, tuple[str, Fusion]] = dict(fusion_taxonomy3.candidates(weights))
    for kind, rarity in grid():
        for weight in GATE_WEIGHTS:
            out[name(weight, kind, rarity)] = (OPEN_BM25, _rare_gate(weight, kind, rarity, weights))
    return out


def bestand_documents(file: str) -> list[str]:
    """(f): the unique documents of both halves of ``file``'s set, the file's own first."""
    stem = file.removesuffix(".tsv").removesuffix("_tuning").removesuffix("_heldout")
    own = fusion_identifiers.EVAL / file
    paths = [own] + [fusion_identifiers.EVAL / f"{stem}_{half}.tsv" for half in ("tuning", "heldout")]
    documents: list[str] = []
    for path in dict.fromkeys(paths):
        if path.exists():
            documents += read_pairs(path)[1]
    return list(dict.fromkeys(documents))


def load(embedder, half: str) -> tuple[dict[str, tuple[list[Query], np.ndarray]], dict[str, dict]]:
    """Session 39's :func:`bench.fusion_taxonomy3.load`, each query with :data:`S41_KIND` and the bestand counts."""
    earlier, parts = fusion_taxonomy3.load(embedder, half)
    sets = {}
    for file, (rows, answer) in earlier.items():
        queries, documents = read_pairs(fusion_identifiers.EVAL / file)
        unique = list(dict.fromkeys(documents))
        documents_held = {**rows[0].documents_held, S41_KIND: [identifiers(text)[0] for text in unique]}
        holding = {**rows[0].holding, S41_KIND: Counter(found for held in documents_held[S41_KIND] for found in held)}
        bestand = bestand_documents(file)
        in_bestand = {
            kind: Counter(found for text in bestand for found in _identifiers(text, kind)[0]) for kind in KINDS
        }
        out = []
        for text, row in zip(queries, rows, strict=True):
            held, negated = identifiers(text)
            out.append(
                Query(
                    row.base,
                    {**row.held, S41_KIND: frozenset(held)},
                    {**row.negated, S41_KIND: frozenset(negated)},
                    documents_held,
                    holding,
                    in_bestand,
                    len(bestand),
                )
            )
        sets[file] = (out, answer)
        parts[file]["bestand"] = len(bestand)
        parts[file]["s41Gate"] = {
            kind: {
                rarity_name(rarity): _gate_counts(out, answer, kind, rarity) for one, rarity in grid() if one == kind
            }
            for kind in KINDS
        }
        parts[file]["s41Identifiers"] = _identifier_counts(out, answer)
    return sets, parts


def _gate_counts(rows: list[Query], answer: np.ndarray, kind: str, rarity: Rarity) -> dict[str, int]:
    """Whether the gate (identifier-token BM25, the BM25 it reads when open) opens on a right or a wrong BM25 first."""
    opens = {"right": 0, "wrong": 0}
    for query, right in zip(rows, answer, strict=True):
        lexical = query.base.lexical_identifiers
        if query.opens_at(kind, lexical, rarity):
            opens["right" if int(np.argmax(lexical)) == right else "wrong"] += 1
    return opens


def _identifier_counts(rows: list[Query], answer: np.ndarray) -> dict[str, int]:
    """Queries with held and negated identifiers under each kind: what the extractor's fixes change."""
    return {
        kind: {
            "withIdentifiers": sum(bool(query.held[kind]) for query in rows),
            "withNegated": sum(bool(query.negated[kind]) for query in rows),
            "answerHoldsAll": sum(
                bool(query.held[kind]) and query.held[kind] <= query.documents_held[kind][right]
                for query, right in zip(rows, answer, strict=True)
            ),
        }
        for kind in KINDS
    }


def misses(embedder, weights: RetrievalSettings) -> dict:
    """Per query of every set (both halves) whose answer's place differs between the served fusion, session 39's
    pick (:data:`S39_TUNING_RESULT`) and this run's (:data:`TUNING_RESULT`): the query, its identifiers under
    :data:`S41_KIND`, how many documents of the searched file and of the bestand hold each, and the answer's place
    under each part and fusion. Read after both runs; nothing is chosen by it."""
    s39 = json.loads(S39_TUNING_RESULT.read_text(encoding="utf-8"))
    tuning = json.loads(TUNING_RESULT.read_text(encoding="utf-8"))
    compared = {"served": SERVED, "s39": s39["picked"], "s41": tuning["picked"]}

    def described(query: Query, right: int) -> dict:
        parts = {"dense": query.dense, "bm25": query.lexical, "bm25Identifiers": query.base.lexical_identifiers}
        held = sorted(query.held[S41_KIND])
        return {
            "held": held,
            "negated": sorted(query.negated[S41_KIND]),
            "heldBy": {found: query.holding[S41_KIND][found] for found in held},
            "heldInBestand": {found: query.in_bestand[S41_KIND][found] for found in held},
            "bestand": query.bestand,
            **{key: _rank(values, right) for key, values in parts.items()},
        }

    return {
        "s39Pick": compared["s39"],
        "s41Pick": compared["s41"],
        **fusion_taxonomy.places_that_differ(embedder, load, candidates(weights), compared, ("",), described),
    }


def main() -> None:
    fusion_taxonomy.run(__doc__, COMMAND, load, candidates, misses)


if __name__ == "__main__":
    main()
