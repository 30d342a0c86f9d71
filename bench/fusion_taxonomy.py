"""Fusions that count an identifier the *taxonomy* knows, with negation, as a fact (issue 19, item 3), chosen on
the *tuning* halves of data/eval by a rule with a tolerance for dense drift.

Session 37. Session 36's identifier gate (``bench/fusion_identifiers.py``: a token with a digit or 2–5
capitals) held 8 of 9 tuning halves and 7 of 9 held out, the served fusion's count. It opened on tokens that
are not codes ("tot 10 uur", "ervr ICT hobby") and on a certificate the client does *not* have ("geen VCA").
Here an identifier is what the reference data and the vocabulary name (:func:`taxonomy_identifiers`), and a
negation before it removes it from the query.

**Identifiers** (written down before any run), matched as whole tokens of the accent-free, lower-cased text
(hyphens and slashes separate tokens; ``, ; . : ! ? ( )`` end a clause), each emitted with its parents
("B-VCA" gives ``cert:vca_basis`` and ``cert:vca``):

* certificates of ``data/certificaten.csv``: the abbreviations in a label's parentheses ("(B-VCA)", "(VOL-VCA)",
  "(EPT)", "(IPAF of TCVT)", "(BHV)", "(SVH)", ...), the codes that are abbreviations or phrases (``ept``,
  ``bhv``, ``ehbo``, ``adr``, ``haccp``, ``vog``, ``icdl``, ``vwlw``, ``vca basis``, ``nen 3140``, ``code 95``,
  ``beveiliger 2``, ``sociale hygiene``), and a code word joined to *certificaat*, *diploma*, *papiertje*,
  *pasje* or *cursus* ("heftruckcertificaat", "bhv-diploma", "reachtruckpapiertje");
* driving licences (:class:`matching.vocab.Rijbewijs` and the other EU categories): a category only after
  *rijbewijs*/*rbw* (a run of categories joined by *en*, *of*, *plus*, commas or slashes: "rijbewijs B, C en
  CE") or right before it ("C-rijbewijs"); a multi-letter category written in capitals (CE, C1E, BE, DE, D1,
  D1E, AM) anywhere; *code 95*/*code 96*; each with the parent ``rijbewijs``;
* language levels: :data:`matching.vocab.TAALNIVEAUS` outside a licence run ("B1", "A2-niveau"), NT2, 1F–4F;
* education levels (:class:`matching.vocab.Opleidingsniveau`): mbo 1–4 in any spelling ("mbo2", "mbo-2", "mbo
  niveau 2"; parent ``mbo``), vmbo, havo, vwo, hbo, WO (in capitals), bbl, entree-opleiding/-diploma;
* welding processes (111, 114, 121, 131, 135, 136, 138, 141, 15, 311) only in a text with a welding word (a
  token *las*, *lassen*, *lasser*, *lasproces*, ... or MIG/MAG/TIG in capitals), and MIG/MAG/TIG in capitals;
* software the vocabulary names (WMS, Excel, Microsoft/MS Office, CNC: ``data/competenties.csv``) and a fixed
  list of packages written down here (SAP, Exact Online, AFAS, Twinfield, AutoCAD).

**Negation**: *geen*, *nog geen*, *zonder* or *niet* negates the identifiers in the next
:data:`NEGATION_WINDOW` tokens of its clause, up to *wel* or *maar* ("heeft geen VCA, wel
heftruckcertificaat": VCA negated, the forklift certificate not; "geen rijbewijs B of C": both); so does
*in aanvraag*, *aangevraagd* or *verlopen* right after one ("rijbewijs B, C in aanvraag": C negated). Negated
identifiers are removed from the query's identifiers; a document's are removed the same way ("geen rijbewijs
nodig").

Candidates (a small grid, fixed here):

1. the served fusion, :func:`matching.scoring.fuse` (the reference);
2. session 36's pick (its identifier gate, lexical × 2.0, identifier-token BM25), imported unchanged;
3. the **taxonomy gate**: lexical's weight becomes ``R`` (dense's being 1) for a query with at least one
   non-negated taxonomy identifier whose BM25 first document holds every one of them and none of the query's
   negated ones; else the served fusion. R in :data:`GATE_WEIGHTS`, with three BM25s: ordinary; session 36's
   identifier tokens (:func:`bench.fusion_identifiers.identifier_bm25`); and **negation-stripped** (ordinary
   BM25 of the query with its negated identifiers' tokens and the negation words removed, so "geen VCA" no
   longer scores the VCA vacancies up). 2 + 9 = 11 candidates.

The bar per half: the best of dense and every BM25 above (ordinary, identifier tokens, negation-stripped), the
same for every candidate (:func:`bench.fusion_identifiers.against_bar`; ``marginOverOwnParts`` beside it).

The rule (written before any run, and before the new set ``nl_bemiddeling`` existed):

1. **most tuning halves held**, a half counting as held when hybrid MRR ≥ bar − :data:`TOLERANCE` (0.002:
   dense MRR drifts by up to 0.011 between runs and machines, and a margin of −0.0004 is within one rank step
   of one query); the strict count (margin ≥ 0) is reported beside it, not chosen by;
2. among those, the largest worst margin; 3. worst margins within 0.001 count as tied, the largest mean margin
   wins, the served fusion on an exact tie (:func:`bench.fusion_confidence.pick` on the tolerant counts).

Then ``--half heldout`` is run **once**; every candidate's rows are reported, none chosen by them. This
session changes nothing served (``matching/scoring.py`` untouched whatever the result): the report says what
the rule picked and how many held-out halves it holds, tolerant and strict, against the served fusion in the
same run.

**The extractor here is session 37's (the taxonomy extractor, :func:`taxonomy_identifiers`), an earlier version than
the served one**, kept as a copy: the record of what this run read. The served extractor is session 42's,
:mod:`matching.identifiers`, which :mod:`bench.fusion_taxonomy5` imports since session 45.

    flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m bench.fusion_taxonomy \\
        --half tuning > bench/results/fusion-taxonomy-s37-tuning.json
    (the same with ``--half heldout`` > bench/results/fusion-taxonomy-s37-heldout.json)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bench import fusion_confidence, fusion_identifiers, fusion_tuning
from matching import scoring
from matching.embedding import load_embedder
from matching.gendered import fold
from matching.reference import CERTIFICATES_FILE
from matching.settings import EmbeddingSettings, RetrievalSettings
from matching.vocab import TAALNIVEAUS, Rijbewijs
from training.embedding_eval import _metrics, read_pairs

COMMAND = "nice -n 12 .venv/bin/python -m bench.fusion_taxonomy --half {half}"
GATE_WEIGHTS = (0.5, 1.0, 2.0)  # lexical's weight (dense's is 1) when the taxonomy gate opens
TOLERANCE = 0.002  # a half is held when hybrid MRR >= bar - this (dense drift; rule step 1)
NEGATION_WINDOW = 4  # tokens after a negation word that it reaches, within its clause
NEGATIONS = ("geen", "zonder", "niet")  # "nog geen" is "geen" with "nog" before it
NEGATED_AFTER = (("in", "aanvraag"), ("aangevraagd",), ("verlopen",))  # right after an identifier
SCOPE_ENDS = frozenset({"wel", "maar"})
CLAUSE_ENDS = frozenset(",;.:!?()")
TOKEN = re.compile(r"[^\W_]+|[,;.:!?()]")
LICENCE_WORDS = frozenset({"rijbewijs", "rijbewijzen", "rbw"})
LICENCE_CATEGORIES = frozenset(
    {str(category).lower() for category in Rijbewijs}
    | {"a", "a1", "a2", "be", "c1", "c1e", "ce", "d1", "d1e", "de", "t"}
)
AMBIGUOUS_CATEGORIES = frozenset({"a", "be", "de", "t"})  # Dutch words too: categories only in capitals
LICENCES_IN_CAPITALS = frozenset({"AM", "BE", "CE", "C1E", "D1", "D1E", "DE"})  # codes wherever capitalised
LICENCE_JOINS = frozenset({"en", "of", "plus", ",", "/"})
LANGUAGE_LEVELS = frozenset(level.lower() for level in TAALNIVEAUS) | {"1f", "2f", "3f", "4f"}
WELDING_PROCESSES = frozenset({"111", "114", "121", "131", "135", "136", "138", "141", "15", "311"})
WELDING_WORDS = frozenset({"las", "lassen", "lasser", "lassers", "lasproces", "lasprocessen", "laswerk", "gelast"})
WELDING_IN_CAPITALS = frozenset({"MIG", "MAG", "TIG"})
CERTIFICATE_SUFFIXES = ("certificaat", "diploma", "papiertje", "pasje", "cursus")
EDUCATION = {
    ("vmbo",): "opleiding:vmbo",
    ("havo",): "opleiding:havo",
    ("vwo",): "opleiding:vwo",
    ("hbo",): "opleiding:hbo",
    ("bbl",): "opleiding:bbl",
    ("entree", "opleiding"): "opleiding:entree",
    ("entree", "diploma"): "opleiding:entree",
    ("entreeopleiding",): "opleiding:entree",
    ("entreediploma",): "opleiding:entree",
    ("mbo",): "opleiding:mbo",
}
SOFTWARE = {  # the vocabulary's (data/competenties.csv), then the fixed list of the module docstring
    ("wms",): "software:wms",
    ("excel",): "software:excel",
    ("microsoft", "office"): "software:office",
    ("ms", "office"): "software:office",
    ("cnc",): "software:cnc",
    ("sap",): "software:sap",
    ("exact", "online"): "software:exact",
    ("afas",): "software:afas",
    ("twinfield",): "software:twinfield",
    ("autocad",): "software:autocad",
}
PARENTS = {"cert:vca_basis": "cert:vca", "cert:vca_vol": "cert:vca"}


@dataclass(frozen=True)
class Token:
    text: str  # as written
    folded: str  # lower case, no accents

    @property
    def clause_end(self) -> bool:
        return self.text in CLAUSE_ENDS


def tokens(text: str) -> list[Token]:
    """Words and clause marks of ``text``; a hyphen or slash only separates ("B-VCA" → B, VCA)."""
    return [Token(found, fold(found)) for found in TOKEN.findall(text)]


@lru_cache(maxsize=1)
def certificate_phrases() -> dict[tuple[str, ...], str]:
    """Token sequences → certificate identifier, from ``data/certificaten.csv`` (module docstring)."""
    phrases: dict[tuple[str, ...], str] = {}
    with CERTIFICATES_FILE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            name = f"cert:{row['code']}"
            words = tuple(fold(row["code"]).replace("nen3140", "nen_3140").split("_"))
            if len(words) > 1 or len(words[0]) <= 5:  # "vca basis", "ept"; not the job words ("heftruck")
                phrases[words] = name
            for inside in re.findall(r"\(([^)]*)\)", row["label"]):
                for part in re.split(r"\s+of\s+", inside):
                    found = [token for token in tokens(part) if not token.clause_end]
                    if all(token.text.isupper() for token in found) and not (
                        len(found) == 1 and found[0].folded in LANGUAGE_LEVELS
                    ):  # an abbreviation ("B-VCA", "IPAF"), not "(mbo 2)", "(Het Oranje Kruis)" or a level "(B1)"
                        phrases[tuple(token.folded for token in found)] = name
    phrases[("vol", "vca")] = phrases[("vca", "vol")] = "cert:vca_vol"
    phrases[("vca",)] = "cert:vca"
    phrases[("svpb",)] = "cert:svpb"  # two diplomas' examiner, not one diploma
    phrases[("nen", "3140")] = phrases[("nen3140",)] = "cert:nen3140_vop"
    phrases.pop(("code95",), None)  # code 95 is a licence's (below)
    return phrases


@lru_cache(maxsize=1)
def certificate_words() -> dict[str, str]:
    """One-word codes a certificate suffix may join ("heftruck" + "certificaat"): the codes without "_"."""
    with CERTIFICATES_FILE.open(encoding="utf-8", newline="") as handle:
        words = {row["code"]: f"cert:{row['code']}" for row in csv.DictReader(handle) if "_" not in row["code"]}
    return {**words, "vca": "cert:vca"}


def _with_parents(identifier: str) -> list[str]:
    found = [identifier]
    if identifier in PARENTS:
        found.append(PARENTS[identifier])
    if identifier.startswith("rijbewijs:"):
        found.append("rijbewijs")
    if identifier.startswith("opleiding:mbo") and identifier != "opleiding:mbo":
        found.append("opleiding:mbo")
    return found


def _matches(words: list[Token], welding_text: bool) -> Iterator[tuple[int, int, list[str]]]:
    """(first token, end token, identifiers) of every match, left to right, longest phrase first."""
    phrases = {**certificate_phrases(), **EDUCATION, **SOFTWARE}
    longest = max(len(phrase) for phrase in phrases)
    folded = [word.folded for word in words]
    at = 0
    while at < len(words):
        word, text = folded[at], words[at].text
        if word in LICENCE_WORDS:  # "rijbewijs B, C en CE": a run of categories and joins, each its own match
            yield at, at + 1, ["rijbewijs"]
            end = at + 1
            while end < len(words) and (_category(words[end]) or folded[end] in LICENCE_JOINS):
                if _category(words[end]):
                    yield end, end + 1, _with_parents(f"rijbewijs:{folded[end]}")
                end += 1
            at = end
            continue
        if _category(words[at]) and at + 1 < len(words) and folded[at + 1] in LICENCE_WORDS:  # "C-rijbewijs"
            yield at, at + 2, _with_parents(f"rijbewijs:{word}")
            at += 2
            continue
        if word == "code" and at + 1 < len(words) and folded[at + 1] in ("95", "96"):
            yield at, at + 2, _with_parents(f"rijbewijs:code{folded[at + 1]}")
            at += 2
            continue
        if word in ("code95", "code96"):
            yield at, at + 1, _with_parents(f"rijbewijs:{word}")
            at += 1
            continue
        if word in certificate_words() and at + 1 < len(words) and folded[at + 1] in CERTIFICATE_SUFFIXES:
            yield at, at + 2, _with_parents(certificate_words()[word])  # "heftruck certificaat"
            at += 2
            continue
        if word == "mbo" and at + 1 < len(words):  # "mbo 2", "mbo niveau 2"
            level = folded[at + 2] if folded[at + 1] == "niveau" and at + 2 < len(words) else folded[at + 1]
            if level in ("1", "2", "3", "4"):
                end = at + (3 if folded[at + 1] == "niveau" else 2)
                yield at, end, _with_parents(f"opleiding:mbo{level}")
                at = end
                continue
        matched = False
        for size in range(min(longest, len(words) - at), 0, -1):
            phrase = tuple(folded[at : at + size])
            if phrase in phrases:
                yield at, at + size, _with_parents(phrases[phrase])
                at += size
                matched = True
                break
        if matched:
            continue
        single = _single(word, text, welding_text)
        if single:
            yield at, at + 1, single
        at += 1


def _category(word: Token) -> bool:
    """A licence category in a licence run; "de", "a", "t" and "be" only in capitals (else words)."""
    if word.folded in AMBIGUOUS_CATEGORIES:
        return word.text.isupper()
    return word.folded in LICENCE_CATEGORIES


def _single(word: str, text: str, welding_text: bool) -> list[str]:
    """The identifiers of one token that no phrase matched."""
    if re.fullmatch(r"mbo[1-4]", word):
        return _with_parents(f"opleiding:{word}")
    if text in LICENCES_IN_CAPITALS:
        return _with_parents(f"rijbewijs:{word}")
    if word in LANGUAGE_LEVELS or word == "nt2":
        return [f"taal:{word}"]
    if text == "WO":
        return ["opleiding:wo"]
    if text in WELDING_IN_CAPITALS or (welding_text and word in WELDING_PROCESSES):
        return [f"las:{word}"]
    for suffix in CERTIFICATE_SUFFIXES:  # "heftruckcertificaat"; "bhv-diploma" is two tokens, matched above
        stem = word.removesuffix(suffix)
        if stem != word and stem in certificate_words():
            return _with_parents(certificate_words()[stem])
    return []


def _classified(text: str) -> tuple[list[Token], list[tuple[int, int, list[str], bool]]]:
    """``text``'s tokens, and per match (first token, end token, identifiers, negated)."""
    words = tokens(text)
    folded = [word.folded for word in words]
    welding_text = bool(WELDING_WORDS & set(folded)) or any(word.text in WELDING_IN_CAPITALS for word in words)
    negated_at = _negated_positions(folded)
    return words, [
        (start, end, found, start in negated_at or _negated_after(folded, end))
        for start, end, found in _matches(words, welding_text)
    ]


def _negated_after(folded: list[str], end: int) -> bool:
    """A marker right after an identifier says it is not held (yet): "C in aanvraag", "VCA verlopen"."""
    return any(tuple(folded[end : end + len(marker)]) == marker for marker in NEGATED_AFTER)


def taxonomy_identifiers(text: str) -> tuple[set[str], set[str]]:
    """(held, negated) identifiers of ``text`` (module docstring); one both held and negated counts as held."""
    held, negated = set(), set()
    for _, _, found, is_negated in _classified(text)[1]:
        (negated if is_negated else held).update(found)
    return held, negated - held


def _negated_positions(folded: list[str], negations: tuple[str, ...] = NEGATIONS) -> set[int]:
    """Token positions a negation word (of ``negations``) reaches: the next :data:`NEGATION_WINDOW` of its clause, up
    to wel/maar."""
    reached = set()
    for at, word in enumerate(folded):
        if word not in negations:
            continue
        for after in range(at + 1, min(at + 1 + NEGATION_WINDOW, len(folded))):
            if folded[after] in CLAUSE_ENDS and folded[after] != "," or folded[after] in SCOPE_ENDS:
                break
            if folded[after] == "," and not _licence_run_goes_on(folded, after):
                break
            reached.add(after)
    return reached


def _licence_run_goes_on(folded: list[str], comma: int) -> bool:
    """A comma inside "geen rijbewijs B, C" joins categories; elsewhere it ends the clause."""
    return (
        comma + 1 < len(folded)
        and folded[comma + 1] in LICENCE_CATEGORIES
        and folded[comma - 1] in (LICENCE_CATEGORIES | LICENCE_WORDS)
    )


def stripped(text: str) -> str:
    """``text`` without its negation words and the tokens of its negated identifiers (the stripped BM25's query)."""
    words, matches = _classified(text)
    folded = [word.folded for word in words]
    drop = {
        at
        for at, word in enumerate(folded)
        if word in NEGATIONS or word == "nog" and at + 1 < len(folded) and folded[at + 1] == "geen"
    }
    for start, end, _, is_negated in matches:
        if is_negated:
            drop.update(range(start, end))
    return " ".join(word.text for at, word in enumerate(words) if at not in drop)


def _bm25(queries: list[str], documents: list[str]) -> np.ndarray:
    return fusion_identifiers.bm25_matrix(queries, documents)


@dataclass
class Query:
    """One query's scores per document (``dense``, ``lexical`` as :func:`bench.fusion_confidence.row` reads them),
    the other BM25s, its taxonomy identifiers and those of every document of its file."""

    dense: np.ndarray
    lexical: np.ndarray
    lexical_identifiers: np.ndarray  # session 36's identifier tokens
    lexical_stripped: np.ndarray  # negated identifiers removed from the query
    held: frozenset[str]
    negated: frozenset[str]
    documents_held: list[set[str]]
    s36: fusion_identifiers.Query  # for session 36's pick, unchanged


Fusion = Callable[[Query], np.ndarray]
BM25S = {"ordinary": "lexical", "identifier tokens": "lexical_identifiers", "negation-stripped": "lexical_stripped"}
PARTS = {"ordinary": "lexical", "identifier tokens": "lexicalIdentifierTokens", "negation-stripped": "lexicalStripped"}


def gate_opens(query: Query, lexical: np.ndarray) -> bool:
    """The query has identifiers, and BM25's first document holds all of them and none of its negated ones."""
    first = int(np.argmax(lexical))
    holds = query.documents_held[first]
    return bool(query.held) and lexical[first] > 0 and query.held <= holds and not query.negated & holds


def _taxonomy_gate(weight: float, bm25: str, weights: RetrievalSettings) -> Fusion:
    def fused(query: Query) -> np.ndarray:
        lexical = getattr(query, BM25S[bm25])
        if gate_opens(query, lexical):
            return fusion_tuning._z(query.dense) + weight * fusion_tuning._z(lexical)
        return scoring.fuse(query.dense, lexical, weights)

    return fused


SERVED = "served: matching.scoring.fuse"
S36_PICK = "identifier gate: lexical × 2.0 when BM25's first holds them all, identifier tokens"


def candidates(weights: RetrievalSettings) -> dict[str, tuple[str, Fusion]]:
    """The module docstring's candidates, each with the BM25 it reads, the served first."""
    s36 = fusion_identifiers.candidates(weights)[S36_PICK][1]
    out: dict[str, tuple[str, Fusion]] = {
        SERVED: ("ordinary", lambda q: scoring.fuse(q.dense, q.lexical, weights)),
        f"s36: {S36_PICK}": ("identifier tokens", lambda q: s36(q.s36)),
    }
    for bm25 in BM25S:
        for weight in GATE_WEIGHTS:
            name = f"taxonomy gate: lexical × {weight} when BM25's first holds them all (negation-aware), {bm25}"
            out[name] = (bm25, _taxonomy_gate(weight, bm25, weights))
    return out


def load(embedder, half: str) -> tuple[dict[str, tuple[list[Query], np.ndarray]], dict[str, dict]]:
    """Per file of the half: its queries and answers, and the parts' metrics (dense and the three BM25s): session
    36's (:func:`bench.fusion_identifiers.load`) with the negation-stripped BM25 and the taxonomy identifiers."""
    earlier, earlier_parts = fusion_identifiers.load(embedder, half)
    sets, parts = {}, {}
    for name, (s36_rows, answer) in earlier.items():
        queries, documents = read_pairs(fusion_identifiers.EVAL / name)
        unique = list(dict.fromkeys(documents))
        lexical_stripped = _bm25([stripped(query) for query in queries], unique)
        documents_held = [taxonomy_identifiers(document)[0] for document in unique]
        rows = []
        for query, s36, lexical_without in zip(queries, s36_rows, lexical_stripped, strict=True):
            held, negated = taxonomy_identifiers(query)
            rows.append(
                Query(
                    s36.dense,
                    s36.lexical,
                    s36.lexical_identifiers,
                    lexical_without,
                    frozenset(held),
                    frozenset(negated),
                    documents_held,
                    s36,
                )
            )
        sets[name] = (rows, answer)
        parts[name] = {
            **{part: earlier_parts[name][part] for part in ("dense", "lexical", "lexicalIdentifierTokens")},
            "lexicalStripped": _metrics(lexical_stripped, answer),
            "taxonomyIdentifiers": _gate_counts(rows, answer),
        }
    return sets, parts


def _gate_counts(rows: list[Query], answer: np.ndarray) -> dict:
    """How many queries have taxonomy identifiers (and negated ones), and whether the gate (ordinary BM25) opens
    on a right or a wrong BM25 first: does it tell the two apart?"""
    counts = {"queries": len(rows), "withIdentifiers": 0, "withNegated": 0, "answerHoldsAll": 0}
    opens = {"right": 0, "wrong": 0}
    for query, right in zip(rows, answer, strict=True):
        counts["withNegated"] += int(bool(query.negated))
        if not query.held:
            continue
        counts["withIdentifiers"] += 1
        counts["answerHoldsAll"] += int(query.held <= query.documents_held[right])
        if gate_opens(query, query.lexical):
            opens["right" if int(np.argmax(query.lexical)) == right else "wrong"] += 1
    counts["gateOpens"] = opens
    return counts


def with_tolerance(row: dict) -> dict:
    """``row`` (:func:`bench.fusion_identifiers.against_bar`) with the halves held within :data:`TOLERANCE`."""
    margins = [one["marginOverBestPart"] for one in row["sets"].values()]
    return {**row, "heldStrict": row["held"], "heldWithinTolerance": sum(m >= -TOLERANCE for m in margins)}


def pick(rows: dict[str, dict]) -> str:
    """The rule: :func:`bench.fusion_confidence.pick` on the halves held within :data:`TOLERANCE`."""
    return fusion_confidence.pick({name: {**row, "held": row["heldWithinTolerance"]} for name, row in rows.items()})


# The tuning run's pick (bench/results/fusion-taxonomy-s37-tuning.json), named here after that run for --misses only.
PICKED = "taxonomy gate: lexical × 0.5 when BM25's first holds them all (negation-aware), identifier tokens"
MISSES_SETS = ("nl_bemiddeling", "nl_notities", "nl_sjablonen", "nl_spreektaal")


def _rank(scores: np.ndarray, answer: int) -> int:
    return int((scores > scores[answer]).sum()) + 1


def misses(embedder, weights: RetrievalSettings) -> dict:
    """Per query of :data:`MISSES_SETS` (both halves) whose answer's place differs between the served fusion, the
    pick and session 36's pick: the query, its identifiers and the answer's place under each part and fusion.
    Read after both runs, to explain them; nothing is chosen by it."""

    def described(query: Query, right: int) -> dict:
        parts = {"dense": query.dense, "bm25": query.lexical, "bm25Identifiers": query.lexical_identifiers}
        return {
            "held": sorted(query.held),
            "negated": sorted(query.negated),
            **{key: _rank(values, right) for key, values in parts.items()},
        }

    compared = {"served": SERVED, "pick": PICKED, "s36": f"s36: {S36_PICK}"}
    return places_that_differ(embedder, load, candidates(weights), compared, MISSES_SETS, described)


def places_that_differ(
    embedder, load: Callable, fusions: dict, compared: dict[str, str], prefixes: tuple[str, ...], described: Callable
) -> dict[str, list[dict]]:
    """Per set whose name starts with one of ``prefixes`` (both halves, as ``load`` reads them), the queries whose
    answer's place differs between the ``compared`` fusions (name → key of ``fusions``): the query's text, what
    ``described(query, answer)`` tells of it, and the answer's place under each fusion (the ``--misses`` of both
    taxonomy-gate benches)."""
    out = {}
    for half in ("tuning", "heldout"):
        sets, _ = load(embedder, half)
        for file, (rows, answer) in sets.items():
            if not file.startswith(prefixes):
                continue
            queries, _ = read_pairs(fusion_identifiers.EVAL / file)
            changed = []
            for text, query, right in zip(queries, rows, answer, strict=True):
                places = {key: _rank(fusions[name][1](query), right) for key, name in compared.items()}
                if len(set(places.values())) > 1:
                    changed.append({"query": text, **described(query, right), **places})
            out[file] = changed
    return out


def run(doc: str, command: str, load: Callable, candidates: Callable, misses: Callable) -> None:
    """The command line of a taxonomy-gate bench (this one and :mod:`bench.fusion_taxonomy2`): ``--half`` rows every
    candidate against the bar of that half (the rule's pick on the tuning half), ``--misses`` the per-query places
    instead; JSON on stdout. ``doc``: the bench's docstring, whose "The rule (" part is quoted in the result."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--half", choices=("tuning", "heldout"), default="tuning")
    parser.add_argument("--misses", action="store_true", help="the per-query places of misses() instead")
    arguments = parser.parse_args()
    half = arguments.half
    weights = RetrievalSettings()
    embedder = load_embedder(EmbeddingSettings())
    if arguments.misses:
        json.dump(
            {"command": command.format(half="tuning") + " --misses", **misses(embedder, weights)},
            sys.stdout,
            indent=2,
            ensure_ascii=False,
        )
        return
    sets, parts = load(embedder, half)
    own = {
        bm25: {file: max(part["dense"]["mrr"], part[PARTS[bm25]]["mrr"]) for file, part in parts.items()}
        for bm25 in BM25S
    }
    bars = {file: max(own[bm25][file] for bm25 in BM25S) for file in parts}
    rows = {
        name: with_tolerance(fusion_identifiers.against_bar(fusion_confidence.row(fusion, sets), bars, own[bm25]))
        for name, (bm25, fusion) in candidates(weights).items()
    }
    result = {
        "command": command.format(half=half),
        "half": half,
        "sets": sorted(sets),
        "model": embedder.model_id,
        "loadAverage": [round(value, 2) for value in os.getloadavg()],
        "tolerance": TOLERANCE,
        "rule": doc.split("The rule (")[1].split("    flock")[0].strip(),
        "picked": pick(rows) if half == "tuning" else None,
        "bars": bars,
        "parts": parts,
        "candidates": rows,
    }
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)


def main() -> None:
    run(__doc__, COMMAND, load, candidates, misses)


if __name__ == "__main__":
    main()
