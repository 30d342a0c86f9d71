"""Certificate categories, dates that are no identifier, and a gate that excuses common identifiers (issue 19,
item 3), chosen on the *tuning* halves of data/eval by session 37's rule, and decided on a set written apart after
this module was committed.

Session 43 (helper F9r). Session 42's second round (``bench/fusion_taxonomy6.py``,
``bench/results/fusion-taxonomy-s42c-*.json``): over all 16 sets the pick fixed before ``nl_zoekbalk`` existed
("s42b": session 39's rare gate × 2.0 with session 42's extractor, a language level never the rare identifier on its
own; closed: (p) dense first, BM25 a tie-break within 0.25 z) holds 15 of 16 halves on each side (tolerance 0.002).
Its losses, read in ``fusion-taxonomy-s42c-misses.json`` (key ``s42b``):

- ``nl_register`` held out (−0.0082): "IPAF 3a/3b hoogwerker · geldig t/m 07-2027". The extractor holds only
  ``cert:hoogwerker``, not the categories, so BM25's first (a vacancy asking "IPAF 3a", the identifier tokens
  ``#ipaf #3a``) holds every held identifier and the gate opens on the wrong document; "Rijbewijs: B, C1 · code 95
  geldig t/m 2027": BM25's first holds C1 and code 95 but not the common licence B, so the gate stays closed; dense
  has the answer second and the 0.25 z tie-break does not lift it;
- ``nl_titels`` tuning (−0.0022, just outside the tolerance): "Medisch Koerier (spoed)", no identifier.

Written down here before any run and before an eighteenth set existed:

**The extractor** :data:`S43_KIND`: session 42's (:func:`bench.fusion_taxonomy5.identifiers`) with

(x) **a certificate's categories**: category codes right after a certificate the extractor reads (its word, its
    abbreviation, or either with a certificate suffix: "IPAF 3a/3b", "IPAF-certificaat 1b", "heftruckcertificaat
    klasse 2") are identifiers of their own, ``<certificate>:<code>`` ("cert:hoogwerker:3a"), held or negated as
    their certificate is. A code is a digit 1–9 with a letter a–c ("3a", "1b"); a bare digit only after a class word
    (*klasse*, *categorie*, *cat*, *type*: "reachtruck categorie 3"); codes run on after *en*, *of*, *plus*, a comma
    or a slash ("3a/3b", "1a, 1b en 3a"). A number after a certificate with no class word and no letter ("VCA 2024",
    "BHV 2 dagen") is not one;
(v) **a level after the certificate**: "VCA-B"/"VCA B" (B in capitals) is the basic VCA as "B-VCA" is
    (``cert:vca_basis``); "VCA-VOL" was read already;
(y) **validity dates are never an identifier**: the identifier-token BM25 that the gate reads when open
    (:func:`bench.fusion_identifiers.identifier_bm25`) makes a token of every code with a digit, so "t/m 07-2027"
    gave ``#07-2027`` and ``#2027``; :func:`dateless_bm25` drops the identifier tokens that are dates (a year
    1900–2099, optionally after a month or a day and month: "2027", "07-2027", "1-7-2027"). The taxonomy extractor
    never took a date (codes need a capital letter). Licence categories listed after "Rijbewijs:" with commas
    ("Rijbewijs: B, BE, C1, C1E") are read since session 41's colon fix; a test keeps them.

**The gate and the closed fusion**, all behind session 39's rare gate × 2.0 (at most 10 % of the searched documents)
with the language rule of ``fusion_taxonomy6`` (a language level never the rare identifier on its own):

(z) **common identifiers excused** (:func:`rare_held`): the gate also opens where BM25's first holds every *rare*
    held identifier of the query (at most 10 % of the documents hold it, none included), at least one of them no
    language level, and none of its negated ones; a common one (licence B, ``rijbewijs``) it need not hold. A rare
    identifier no document holds still keeps it closed (the query asks for something no first has);
(p+) **a wider tie-break where BM25's first holds every rare identifier**: when the gate is closed, (p)'s
    ``z(dense) + δ · BM25 / max(BM25)`` over ordinary BM25 with ``δ`` in :data:`RARE_MARGINS` (0.5, 1.0) where
    ordinary BM25's first meets (z)'s condition, else session 42's 0.25.

Candidates (a small grid, fixed here):

1. session 42's second 139, unchanged (:func:`bench.fusion_taxonomy6.candidates`, the served fusion first);
2. :data:`S43_KIND` opening over identifier tokens or over dateless identifier tokens, closed (p) 0.25 or (p+) 0.5
   or 1.0: 2 × 3 = 6;
3. (z) with session 42's extractor (identifier tokens) and with :data:`S43_KIND` (dateless), closed (p) 0.25: 2;
4. s42b with (p+) 0.5 or 1.0 (session 42's extractor, identifier tokens): 2. 139 + 6 + 2 + 2 = 149 candidates.

:data:`S43_KIND` (:func:`identifiers`) is a candidate extractor that was not served: a copy kept as the record of
this run, built on session 42's, which since session 45 is the served :func:`matching.identifiers.identifiers`
(imported through :mod:`bench.fusion_taxonomy5`, as is :func:`matching.identifiers.normalised`).

The pair sets hold text only: the structured part of serving is not in them, so these act on BM25 alone here. The
bar per half is session 37's: the best of dense and its three BM25s (ordinary, identifier tokens,
negation-stripped), the same for every candidate (:func:`bench.fusion_identifiers.against_bar`); the dateless
identifier BM25 is reported beside the parts (``lexicalIdentifierTokensDateless``), not in the bar.

**The sets are fixed here** (:data:`SETS`: the 16 sets, 32 halves, in data/eval at this module's commit, the
seventeenth written apart ``nl_zoekbalk`` the newest); any other file in data/eval is not opened. ``--with-new
nl_<name>`` adds a set written after this commit, for the run that judges on it.

The rule (session 37's, unchanged, written before any run and before the eighteenth set existed; over the sixteen
tuning halves of :data:`SETS`, seventeen with a new set's):

1. **most tuning halves held**, a half counting as held when hybrid MRR ≥ bar − :data:`TOLERANCE` (0.002, dense
   drift); the strict count (margin ≥ 0) reported beside it, not chosen by;
2. among those, the largest worst margin; 3. worst margins within 0.001 count as tied, the largest mean margin
   wins, the earlier candidate (the served fusion first) on an exact tie (:func:`bench.fusion_taxonomy.pick`).

Then ``--half heldout`` is run **once**; every candidate's rows are reported, none chosen by them. Nothing served
changes. ``--misses`` (read after both runs) lists, for every set, the queries whose answer's place differs between
the served fusion, s42b and this run's pick. Run it from a clean ``git archive`` of a commit when the working tree
holds uncommitted ``matching/`` files (BM25 reads ``matching/gendered_rules.py``).

    flock /tmp/quiet.gate true && flock -s /tmp/quiet.lock nice -n 12 .venv/bin/python -m bench.fusion_taxonomy7 \\
        --half tuning > bench/results/fusion-taxonomy-s43-tuning.json
    (the same with ``--half heldout`` > bench/results/fusion-taxonomy-s43-heldout.json; a new set:
    ``--with-new nl_<name>``)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from bench import fusion_identifiers, fusion_taxonomy, fusion_taxonomy5, fusion_taxonomy6, fusion_tuning
from bench.fusion_identifiers import MARK, IdentifierAnalyzer
from bench.fusion_taxonomy import CERTIFICATE_SUFFIXES, SERVED, _rank, certificate_phrases, tokens
from bench.fusion_taxonomy3 import OPEN_BM25
from bench.fusion_taxonomy4 import bestand_documents
from bench.fusion_taxonomy5 import OPEN_RARITY, OPEN_WEIGHT, S42_KIND
from bench.fusion_taxonomy6 import LANGUAGE, S42_TIE_BREAK, rare_gate_opens
from matching.identifiers import EXTRA_CERTIFICATES, normalised
from matching.settings import RetrievalSettings
from training.embedding_eval import _metrics, read_pairs

COMMAND = "nice -n 12 .venv/bin/python -m bench.fusion_taxonomy7 --half {half}"
RESULTS = Path(__file__).resolve().parent / "results"
TUNING_RESULT = RESULTS / "fusion-taxonomy-s43-tuning.json"  # --misses reads the tuning run's pick from it
SETS = (  # the sets in data/eval at this module's commit (nl_zoekbalk, b4036b1, the newest); no other is opened
    "esco_en",
    "nl_belnotities",
    "nl_bemiddeling",
    "nl_cv",
    "nl_eisen",
    "nl_notities",
    "nl_pairs",
    "nl_register",
    "nl_sjablonen",
    "nl_spreektaal",
    "nl_titels",
    "nl_vaktermen",
    "nl_voordracht",
    "nl_voorwaarden",
    "nl_werkzoekende",
    "nl_zoekbalk",
)
S43_KIND = "taxonomy + codes + welding numbers + s41 + s42 + s43 extractor"  # (x), (v)
KINDS = (*fusion_taxonomy5.KINDS, S43_KIND)
DATELESS = "identifier tokens without dates"  # (y): the BM25 a gate opens over
RARE_MARGINS = (0.5, 1.0)  # (p+), in dense z-units
S42_MARGIN = 0.25  # session 42's (p) pick's margin, (p+) elsewhere
CLASS_WORDS = frozenset({"klasse", "categorie", "cat", "type"})  # (x): a bare digit is a category only after these
CATEGORY_JOINS = frozenset({"en", "of", "plus", ","})  # (x): a slash only separates tokens
CATEGORY = re.compile(r"[1-9][a-c]")  # (x): "3a", "1b"
BARE_CATEGORY = re.compile(r"[1-9]")  # (x): after a class word
VCA_LEVEL_AFTER = re.compile(r"\bVCA(?:-|\s)B(?![\w-])")  # (v): "VCA-B", "VCA B"
DATE = re.compile(r"(?:\d{1,2}-){0,2}(?:19|20)\d{2}")  # (y): "2027", "07-2027", "1-7-2027" (whole token)
S42B = fusion_taxonomy6.name(S42_TIE_BREAK, language_opens=False)  # session 42's pick fixed before nl_zoekbalk


def _holders() -> dict[str, str]:
    """One-token certificate names (an abbreviation of ``data/certificaten.csv``, a code word, OPT's word) → the
    certificate: the words after which (x) reads categories."""
    phrases = {words[0]: found for words, found in certificate_phrases().items() if len(words) == 1}
    return {**phrases, **fusion_taxonomy.certificate_words(), **EXTRA_CERTIFICATES}


def _categories(words: list[fusion_taxonomy.Token]) -> Iterator[tuple[str, str]]:
    """(certificate, code) of every category run right after a certificate name of ``words`` (module docstring, (x))."""
    folded = [word.folded for word in words]
    holders = _holders()
    joined = {stem + suffix: found for stem, found in holders.items() for suffix in CERTIFICATE_SUFFIXES}
    for at, word in enumerate(folded):
        certificate = holders.get(word) or joined.get(word)
        if certificate is None:
            continue
        end = at + 1
        while end < len(folded) and (folded[end] in CERTIFICATE_SUFFIXES or folded[end] in ("cert", "certif")):
            end += 1
        classed = end < len(folded) and folded[end] in CLASS_WORDS
        end += classed
        codes = (CATEGORY, BARE_CATEGORY) if classed else (CATEGORY,)
        while end < len(folded) and any(code.fullmatch(folded[end]) for code in codes):
            yield certificate, folded[end]
            end += 1
            while end < len(folded) and folded[end] in CATEGORY_JOINS:  # "1a, 1b en 3a"; a slash is no token
                end += 1


def identifiers(text: str) -> tuple[set[str], set[str]]:
    """(held, negated) identifiers of ``text`` under :data:`S43_KIND`: session 42's
    (:func:`bench.fusion_taxonomy5.identifiers`) with (x)'s categories and (v)'s "VCA-B", each held or negated as
    its certificate is, and added only where the extractor read that certificate."""
    held, negated = fusion_taxonomy5.identifiers(text)
    text = normalised(text)
    found = [(certificate, f"{certificate}:{code}") for certificate, code in _categories(tokens(text))]
    if VCA_LEVEL_AFTER.search(text):
        found += [("cert:vca", "cert:vca_basis")]
    held_more = {identifier for certificate, identifier in found if certificate in held}
    negated_more = {identifier for certificate, identifier in found if certificate in negated}
    return held | held_more, (negated | negated_more) - held - held_more


class DatelessIdentifierAnalyzer(IdentifierAnalyzer):
    """Session 36's identifier tokens (:class:`bench.fusion_identifiers.IdentifierAnalyzer`) without dates, (y)."""

    def __call__(self, text: str) -> list[str]:
        return [token for token in super().__call__(text) if not DATE.fullmatch(token.removeprefix(MARK))]


def dateless_bm25(queries: list[str], documents: list[str]) -> np.ndarray:
    """BM25 (queries × documents) over :class:`DatelessIdentifierAnalyzer`'s tokens, as
    :func:`bench.fusion_identifiers.identifier_bm25` over session 36's."""
    return fusion_identifiers.bm25_matrix(queries, documents, DatelessIdentifierAnalyzer())


@dataclass
class Query(fusion_taxonomy5.Query):
    """Session 42's query with :data:`S43_KIND` among its kinds and (y)'s dateless identifier-token BM25."""

    lexical_dateless: np.ndarray


Gate = Callable[[Query, str, np.ndarray], bool]  # a query, a kind and the BM25 whose first is read


def strict(query: Query, kind: str, lexical: np.ndarray) -> bool:
    """s42b's gate: session 39's, a language level never the rare identifier on its own
    (:func:`bench.fusion_taxonomy6.rare_gate_opens`)."""
    return rare_gate_opens(query, kind, lexical, language_opens=False)


def rare_held(query: Query, kind: str, lexical: np.ndarray) -> bool:
    """(z): ``lexical``'s first holds every held identifier at most :data:`OPEN_RARITY` of the documents hold (one of
    them at least, and one no language level) and none of the negated ones."""
    documents_held = query.documents_held[kind]
    rare = {found for found in query.held[kind] if query.holding[kind][found] <= OPEN_RARITY * len(documents_held)}
    if not any(not found.startswith(LANGUAGE) for found in rare):
        return False
    first = int(np.argmax(lexical))
    holds = documents_held[first]
    return bool(lexical[first] > 0) and rare <= holds and not query.negated[kind] & holds


def tie_break(query: Query, margin: float) -> np.ndarray:
    """(p): ``z(dense) + margin · BM25 / max(BM25)`` over ordinary BM25."""
    top = float(query.lexical.max())
    scaled = query.lexical / top if top > 0 else np.zeros_like(query.lexical)
    return fusion_tuning._z(query.dense) + margin * scaled


Closed = Callable[[Query], np.ndarray]


def rare_tie_break(kind: str, margin: float) -> Closed:
    """(p+): (p) within ``margin`` where ordinary BM25's first meets (z)'s condition, else within 0.25."""

    def fused(query: Query) -> np.ndarray:
        return tie_break(query, margin if rare_held(query, kind, query.lexical) else S42_MARGIN)

    return fused


def gated(kind: str, dateless: bool, gate: Gate, closed: Closed) -> Callable[[Query], np.ndarray]:
    """Lexical × :data:`OPEN_WEIGHT` over the (dateless) identifier-token BM25 where ``gate`` opens on it with
    ``kind``'s identifiers, else ``closed``."""

    def fused(query: Query) -> np.ndarray:
        lexical = query.lexical_dateless if dateless else query.base.lexical_identifiers
        if gate(query, kind, lexical):
            return fusion_tuning._z(query.dense) + OPEN_WEIGHT * fusion_tuning._z(lexical)
        return closed(query)

    return fused


def name(kind: str, dateless: bool, gate: Gate, margin: float | None) -> str:
    opens = "; or where its first holds every rare one" if gate is rare_held else ""
    closed = f"(p) tie-break within {S42_MARGIN} z" + (
        f", {margin} z where BM25's first holds every rare identifier" if margin else ""
    )
    return (
        f"s43: s39's rare gate, lexical × {OPEN_WEIGHT} when open (at most 10% of documents, {kind}, "
        f"{DATELESS if dateless else OPEN_BM25}, a language level never the rare identifier on its own{opens}); "
        f"closed: {closed}"
    )


def grid() -> list[tuple[str, bool, Gate, float | None]]:
    """The new candidates of the module docstring (2., 3., 4.): kind, dateless, gate, (p+)'s margin or None."""
    out: list[tuple[str, bool, Gate, float | None]] = []
    for dateless in (False, True):
        for margin in (None, *RARE_MARGINS):
            out.append((S43_KIND, dateless, strict, margin))
    out += [(S42_KIND, False, rare_held, None), (S43_KIND, True, rare_held, None)]
    out += [(S42_KIND, False, strict, margin) for margin in RARE_MARGINS]
    return out


def candidates(weights: RetrievalSettings) -> dict[str, tuple[str, Callable[[Query], np.ndarray]]]:
    """The module docstring's candidates, each with the BM25 it reads when the gate opens, the served first."""
    out: dict[str, tuple[str, Callable]] = dict(fusion_taxonomy6.candidates(weights))
    for kind, dateless, gate, margin in grid():
        closed = rare_tie_break(kind, margin) if margin else partial(tie_break, margin=S42_MARGIN)
        out[name(kind, dateless, gate, margin)] = (OPEN_BM25, gated(kind, dateless, gate, closed))
    return out


@contextmanager
def only(sets: tuple[str, ...]) -> Iterator[None]:
    """While inside, :func:`bench.fusion_identifiers.load` opens only the halves of ``sets`` (its folder glob is
    filtered by name before any file is read)."""
    is_pairs_file = fusion_identifiers.is_pairs_file
    halves = {f"{stem}_{half}.tsv" for stem in sets for half in ("tuning", "heldout")}
    fusion_identifiers.is_pairs_file = lambda path: path.name in halves and is_pairs_file(path)
    try:
        yield
    finally:
        fusion_identifiers.is_pairs_file = is_pairs_file


def load(
    embedder, half: str, sets: tuple[str, ...] = SETS
) -> tuple[dict[str, tuple[list[Query], np.ndarray]], dict[str, dict]]:
    """Session 42's second :func:`bench.fusion_taxonomy6.load` over ``sets`` only, each query with
    :data:`S43_KIND` and (y)'s dateless identifier-token BM25."""
    with only(sets):
        earlier, parts = fusion_taxonomy6.load(embedder, half)
    out_sets = {}
    for file, (rows, answer) in earlier.items():
        queries, documents = read_pairs(fusion_identifiers.EVAL / file)
        unique = list(dict.fromkeys(documents))
        documents_held = {**rows[0].documents_held, S43_KIND: [identifiers(text)[0] for text in unique]}
        holding = {**rows[0].holding, S43_KIND: Counter(found for held in documents_held[S43_KIND] for found in held)}
        in_bestand = {
            **rows[0].in_bestand,
            S43_KIND: Counter(found for text in bestand_documents(file) for found in identifiers(text)[0]),
        }
        dateless = dateless_bm25(queries, unique)
        out = []
        for text, row, lexical in zip(queries, rows, dateless, strict=True):
            held, negated = identifiers(text)
            out.append(
                Query(
                    row.base,
                    {**row.held, S43_KIND: frozenset(held)},
                    {**row.negated, S43_KIND: frozenset(negated)},
                    documents_held,
                    holding,
                    in_bestand,
                    row.bestand,
                    row.lexical_free,
                    lexical,
                )
            )
        out_sets[file] = (out, answer)
        parts[file]["lexicalIdentifierTokensDateless"] = _metrics(dateless, answer)
        parts[file]["s43Gate"] = {
            label: _gate_counts(out, answer, kind, gate, use_dateless)
            for label, kind, gate, use_dateless in (
                ("s42b", S42_KIND, strict, False),
                ("s43 extractor, dateless", S43_KIND, strict, True),
                ("(z), s42 extractor", S42_KIND, rare_held, False),
                ("(z), s43 extractor, dateless", S43_KIND, rare_held, True),
            )
        }
        parts[file]["s43Identifiers"] = {
            "withIdentifiers": sum(bool(query.held[S43_KIND]) for query in out),
            "withCategories": sum(any(found.count(":") == 2 for found in query.held[S43_KIND]) for query in out),
            "answerHoldsAll": sum(
                bool(query.held[S43_KIND]) and query.held[S43_KIND] <= documents_held[S43_KIND][right]
                for query, right in zip(out, answer, strict=True)
            ),
        }
    return out_sets, parts


def _gate_counts(rows: list[Query], answer: np.ndarray, kind: str, gate: Gate, dateless: bool) -> dict[str, int]:
    """How often ``gate`` opens on a right or a wrong BM25 first, and how many queries it leaves closed."""
    counts = {"right": 0, "wrong": 0, "closed": 0}
    for query, right in zip(rows, answer, strict=True):
        lexical = query.lexical_dateless if dateless else query.base.lexical_identifiers
        if gate(query, kind, lexical):
            counts["right" if int(np.argmax(lexical)) == right else "wrong"] += 1
        else:
            counts["closed"] += 1
    return counts


def misses(embedder, weights: RetrievalSettings, sets: tuple[str, ...] = SETS) -> dict:
    """Per query of every set of ``sets`` (both halves) whose answer's place differs between the served fusion, s42b
    (:data:`S42B`) and this run's pick (:data:`TUNING_RESULT`): the query, its identifiers under :data:`S43_KIND`,
    whether the gates open, and the answer's place under each part and fusion. Read after both runs; nothing is
    chosen by it."""
    tuning = json.loads(TUNING_RESULT.read_text(encoding="utf-8"))
    compared = {"served": SERVED, "s42b": S42B, "s43": tuning["picked"]}

    def described(query: Query, right: int) -> dict:
        parts = {
            "dense": query.dense,
            "bm25": query.lexical,
            "bm25Identifiers": query.base.lexical_identifiers,
            "bm25IdentifiersDateless": query.lexical_dateless,
            "bm25NegationFree": query.lexical_free,
        }
        return {
            "held": sorted(query.held[S43_KIND]),
            "negated": sorted(query.negated[S43_KIND]),
            "s42bGateOpens": strict(query, S42_KIND, query.base.lexical_identifiers),
            "s43GateOpens": strict(query, S43_KIND, query.lexical_dateless),
            "rareHeldGateOpens": rare_held(query, S43_KIND, query.lexical_dateless),
            **{key: _rank(values, right) for key, values in parts.items()},
        }

    these = partial(load, sets=sets)
    return {
        "s42bPick": S42B,
        "s43Pick": compared["s43"],
        **fusion_taxonomy.places_that_differ(embedder, these, candidates(weights), compared, ("",), described),
    }


def main() -> None:
    """``fusion_taxonomy.run``'s command line over :data:`SETS`, with ``--with-new`` sets written after it."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--with-new", action="append", default=[], metavar="nl_<name>")
    arguments, rest = parser.parse_known_args()
    unknown = [stem for stem in arguments.with_new if not (fusion_identifiers.EVAL / f"{stem}_tuning.tsv").exists()]
    if unknown:
        parser.error(f"no set data/eval/<name>_tuning.tsv for {', '.join(unknown)}")
    sets = (*SETS, *(stem for stem in arguments.with_new if stem not in SETS))
    sys.argv = [sys.argv[0], *rest]
    fusion_taxonomy.run(__doc__, COMMAND, partial(load, sets=sets), candidates, partial(misses, sets=sets))


if __name__ == "__main__":
    main()
