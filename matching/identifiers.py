"""The identifiers a text names (certificates, licences, language and education levels, welding processes, software,
codes), each held or negated, and the text with what it says is not needed left out.

The rules were written and judged in the README ("Fusing dense and lexical, on sets we did not tune on": the
paragraphs "identifiers the taxonomy knows, with negation", "the taxonomy gate's three fixes", "a gate only for rare
identifiers, and welding numbers as certificates", "a fifteenth set written apart", "a sixteenth set written apart,
and the closed-gate fusion judged on it"). :func:`identifiers` gives ``(held, negated)`` of a text:

* **certificates** of ``data/certificaten.csv`` (``cert:<code>``): the abbreviations in a label's parentheses
  ("B-VCA", "VOL-VCA", "EPT", "IPAF", "BHV"), short codes and phrases ("ept", "vca basis", "nen 3140", "code 95" is a
  licence's), a code word joined to or followed by *certificaat*, *diploma*, *papiertje*, *pasje*, *cursus*
  ("heftruckcertificaat", "bhv-diploma"), *-cert.*/*-certif.* after it ("heftruck-cert."), a certificate word after
  *certificaat*/*diploma*/... ("certificaat heftruck"), the *-chauffeur* forms ("heftruckchauffeur"), and the
  order-picker truck (*OPT* in capitals, *orderpickertruck* with a certificate word); VCA-B and VOL-VCA carry their
  parent ``cert:vca``;
* **driving licences** (``rijbewijs:<category>`` and ``rijbewijs``): a category only in a run after
  *rijbewijs*/*rbw* (joined by *en*, *of*, *plus*, commas, slashes; a colon after the licence word does not end it:
  "Rijbewijs: B, C1"), right before it ("C-rijbewijs"), a multi-letter category in capitals anywhere (CE, C1E, ...),
  a bare category in capitals after *moet*/*heeft* ("moet C hebben"), *code 95*/*code 96*;
* **language levels** (``taal:<level>``): A1–C2, NT2, 1F–4F; **education levels** (``opleiding:``): mbo 1–4 in any
  spelling, vmbo, havo, vwo, hbo, WO in capitals, bbl, entree;
* **welding processes** (``las:<number>``; ISO 4063) in a text with a welding word or MIG/MAG/TIG in capitals, or
  anywhere with a certificate word after the number or a process word before it ("114 certificaat", "lasproces 141");
* **software** the vocabulary names (WMS, Excel, Office, CNC) and SAP, Exact Online, AFAS, Twinfield, AutoCAD;
* **hyphenated codes** (``code:<code>``) with a digit whose letters are capitals ("AZ-900", "NEN-3140").

**Negation**: *geen*, *nog geen*, *zonder*, *niet*, *nooit* negate the identifiers in the next four tokens of their
clause, up to *wel*/*maar* ("geen VCA, wel heftruckcertificaat"); *in aanvraag*, *aangevraagd*, *verlopen* right
after one negate it; so do *niet*, *nooit*, *geen* (not before *probleem*/*bezwaar*, nor when an identifier follows
them) after it within five tokens of fillers ("VCA hoeft niet", "CE heeft kand. niet"), and *nvt*, *= nee*, *valt
af*, *telt niet*, *te weinig/laag/licht*, or the employer providing it ("BHV halen we samen"). An identifier both held
and negated counts as held. :func:`negation_free` drops the negated spans' words from a text, for the BM25 a closed
gate reads.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from matching.gendered import fold
from matching.reference import CERTIFICATES_FILE
from matching.vocab import TAALNIVEAUS, Rijbewijs

LANGUAGE = "taal:"  # a language level's identifiers
TOKEN = re.compile(r"[^\W_]+|[,;.:!?()]")
CLAUSE_ENDS = frozenset(",;.:!?()")
SCOPE_ENDS = frozenset({"wel", "maar"})
NEGATION_WINDOW = 4  # tokens after a negation word that it reaches, within its clause
NEGATIONS = ("geen", "zonder", "niet", "nooit")  # "nog geen" is "geen" with "nog" before it
NEGATED_AFTER = (("in", "aanvraag"), ("aangevraagd",), ("verlopen",))  # right after an identifier
AFTER_WINDOW = 5  # tokens after an identifier within which a negation after the term must stand
NEGATING_AFTER = ("niet", "geen", "nooit")
NOT_NEGATING_AFTER_GEEN = frozenset({"probleem", "bezwaar"})  # "VOG geen probleem": held
SUBJECTS = frozenset(
    {"kand", "kandidaat", "kl", "klant", "client", "clienten", "deelnemer", "werkzoekende", "ik", "dhr", "mevr"}
    | {"mw", "meneer", "mevrouw", "hem", "haar", "die", "deze"}
)
FILLERS = (
    frozenset({"is", "zijn", "heeft", "hebben", "heb", "hij", "zij", "ze", "je", "we", "wij", "u", "nog", "ook"})
    | {"hoeft", "hoef", "hoeven", "echt", "er", "nu", "dan", "en", "of", "alleen"}
    | SUBJECTS
)
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
NEGATED_BEHIND = (
    ("nvt",),
    ("nee",),
    ("valt", "af"),
    ("telt", "niet"),
    ("te", "weinig"),
    ("te", "laag"),
    ("te", "licht"),
)
NOT_NEEDED = (  # negation_free only: "niet nodig", "geen eis" negate the words before them
    *NEGATED_BEHIND,
    ("niet", "nodig"),
    ("niet", "genoeg"),
    ("niet", "vereist"),
    ("niet", "verplicht"),
    ("geen", "eis"),
    ("geen", "must"),
    ("geen", "vereiste"),
)
NOT_NEEDED_FIRST = frozenset(phrase[0] for phrase in NOT_NEEDED)  # a word no phrase starts with starts none
NEGATION_STARTS = NOT_NEEDED_FIRST | frozenset(NEGATIONS)  # negation_free drops nothing from a text holding none
BACK_WINDOW = 4  # negation_free: words of the clause before a negation after them that it reaches
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
WELDING_CERTIFICATE_AFTER = frozenset(
    {"certificaat", "certificaten", "cert", "certificering", "gecertificeerd", "diploma", "papiertje"}
)
WELDING_PROCESS_BEFORE = frozenset({"proces", "procesnummer", "lasproces", "lascertificaat", "lasdiploma"})
CERTIFICATE_SUFFIXES = ("certificaat", "diploma", "papiertje", "pasje", "cursus")
CERTIFICATE_BEFORE = frozenset({"certificaat", "certificaten", "cert", "diploma", "papiertje", "pasje"})
CERT_AFTER = frozenset({"cert", "certif"})  # "heftruck-cert."
EXTRA_CERTIFICATES = {"orderpickertruck": "cert:orderpickertruck"}  # absent from data/certificaten.csv
OPT = "OPT"  # the order-picker truck, in capitals
CHAUFFEUR_WORDS = ("chauffeur", "chauffeurs", "chauffeuse", "chauffeuses")
CHAUFFEUR_STEMS = ("heftruck", "reachtruck")
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
SOFTWARE = {  # the vocabulary's (data/competenties.csv), then a fixed list of packages
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
HYPHEN_CODE = re.compile(r"(?<![\w-])[^\W_]+(?:-[^\W_]+)+(?![\w-])")
LICENCE_COLON = re.compile(r"\b(rijbewijs|rijbewijzen|rbw)\s*:", re.IGNORECASE)  # "Rijbewijs: B" keeps its run
ABBREVIATIONS = re.compile(r"\b(kand|kl|dhr|mevr|mw)\.", re.IGNORECASE)  # their full stop ends no clause
NVT = re.compile(r"\bn\.\s?v\.\s?t\.?", re.IGNORECASE)
# a licence category that is no language level, in capitals after moet/heeft, not joined by a hyphen
BARE_CATEGORY = re.compile(
    r"\b((?i:moet|heeft)\s+(?:(?i:wel|ook|al|echt)\s+)?)(?=(?:AM|BE|B|C1E|CE|C|D1E|D1|DE|D|T)(?![\w-]))"
)

Span = tuple[int, int, list[str]]  # first token, end token, identifiers


@dataclass(frozen=True)
class Token:
    text: str  # as written
    folded: str  # lower case, no accents


def tokens(text: str) -> list[Token]:
    """Words and clause marks of ``text``; a hyphen or slash only separates ("B-VCA" → B, VCA)."""
    return [Token(found, fold(found)) for found in TOKEN.findall(text)]


def _base_normalised(text: str) -> str:
    """*n.v.t.* as *nvt*; no colon after a licence word, no full stop after *kand.*, *kl.*, *dhr.*, *mevr.*, *mw.*"""
    return NVT.sub("nvt", ABBREVIATIONS.sub(r"\1", LICENCE_COLON.sub(r"\1 ", text)))


def normalised(text: str) -> str:
    """:func:`_base_normalised`, and "rijbewijs" put before a bare category after *moet*/*heeft*."""
    return BARE_CATEGORY.sub(r"\1rijbewijs ", _base_normalised(text))


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
                    found = [token for token in tokens(part) if token.text not in CLAUSE_ENDS]
                    if all(token.text.isupper() for token in found) and not (
                        len(found) == 1 and found[0].folded in LANGUAGE_LEVELS
                    ):  # an abbreviation ("B-VCA", "IPAF"), not "(mbo 2)", "(Het Oranje Kruis)" or a level "(B1)"
                        phrases[tuple(token.folded for token in found)] = name
    phrases[("vol", "vca")] = phrases[("vca", "vol")] = "cert:vca_vol"
    phrases[("vca",)] = "cert:vca"
    phrases[("svpb",)] = "cert:svpb"  # two diplomas' examiner, not one diploma
    phrases[("nen", "3140")] = phrases[("nen3140",)] = "cert:nen3140_vop"
    phrases.pop(("code95",), None)  # code 95 is a licence's
    return phrases


@lru_cache(maxsize=1)
def certificate_words() -> dict[str, str]:
    """One-word codes a certificate suffix may join ("heftruck" + "certificaat"): the codes without "_"."""
    with CERTIFICATES_FILE.open(encoding="utf-8", newline="") as handle:
        words = {row["code"]: f"cert:{row['code']}" for row in csv.DictReader(handle) if "_" not in row["code"]}
    return {**words, "vca": "cert:vca"}


@lru_cache(maxsize=1)
def _phrases() -> tuple[dict[tuple[str, ...], str], int]:
    phrases = {**certificate_phrases(), **EDUCATION, **SOFTWARE}
    return phrases, max(len(phrase) for phrase in phrases)


@lru_cache(maxsize=1)
def _phrase_firsts() -> frozenset[str]:
    """The words a phrase of :func:`_phrases` starts with: a word none starts with starts no phrase."""
    return frozenset(phrase[0] for phrase in _phrases()[0])


def _with_parents(identifier: str) -> list[str]:
    found = [identifier]
    if identifier in PARENTS:
        found.append(PARENTS[identifier])
    if identifier.startswith("rijbewijs:"):
        found.append("rijbewijs")
    if identifier.startswith("opleiding:mbo") and identifier != "opleiding:mbo":
        found.append("opleiding:mbo")
    return found


def _category(word: Token) -> bool:
    """A licence category in a licence run; "de", "a", "t" and "be" only in capitals (else words)."""
    if word.folded in AMBIGUOUS_CATEGORIES:
        return word.text.isupper()
    return word.folded in LICENCE_CATEGORIES


def _fixed_form(words: list[Token], folded: list[str], at: int) -> Span | None:
    """The licence, code 95, certificate-word and mbo forms that start at ``at`` (a licence run: its word only)."""
    word, after = folded[at], folded[at + 1] if at + 1 < len(folded) else ""
    if _category(words[at]) and after in LICENCE_WORDS:  # "C-rijbewijs"
        return at, at + 2, _with_parents(f"rijbewijs:{word}")
    if word == "code" and after in ("95", "96"):
        return at, at + 2, _with_parents(f"rijbewijs:code{after}")
    if word in ("code95", "code96"):
        return at, at + 1, _with_parents(f"rijbewijs:{word}")
    if word in certificate_words() and after in CERTIFICATE_SUFFIXES:  # "heftruck certificaat"
        return at, at + 2, _with_parents(certificate_words()[word])
    if word == "mbo" and after:  # "mbo 2", "mbo niveau 2"
        level = folded[at + 2] if after == "niveau" and at + 2 < len(folded) else after
        if level in ("1", "2", "3", "4"):
            return at, at + (3 if after == "niveau" else 2), _with_parents(f"opleiding:mbo{level}")
    return None


def _matches(words: list[Token], welding_text: bool) -> Iterator[Span]:
    """Every taxonomy match of ``words``, left to right, the longest phrase first."""
    phrases, longest = _phrases()
    folded = [word.folded for word in words]
    at = 0
    while at < len(words):
        if folded[at] in LICENCE_WORDS:  # "rijbewijs B, C en CE": a run of categories and joins, each its own match
            yield at, at + 1, ["rijbewijs"]
            end = at + 1
            while end < len(words) and (_category(words[end]) or folded[end] in LICENCE_JOINS):
                if _category(words[end]):
                    yield end, end + 1, _with_parents(f"rijbewijs:{folded[end]}")
                end += 1
            at = end
            continue
        fixed = _fixed_form(words, folded, at)
        if fixed is None and folded[at] in _phrase_firsts():
            fixed = next(
                (
                    (at, at + size, _with_parents(phrases[tuple(folded[at : at + size])]))
                    for size in range(min(longest, len(words) - at), 0, -1)
                    if tuple(folded[at : at + size]) in phrases
                ),
                None,
            )
        if fixed is not None:
            yield fixed
            at = fixed[1]
            continue
        single = _single(folded[at], words[at].text, welding_text)
        if single:
            yield at, at + 1, single
        at += 1


def _single(word: str, text: str, welding_text: bool) -> list[str]:
    """The identifiers of one token that no phrase matched."""
    if word.startswith("mbo") and re.fullmatch(r"mbo[1-4]", word):
        return _with_parents(f"opleiding:{word}")
    if text in LICENCES_IN_CAPITALS:
        return _with_parents(f"rijbewijs:{word}")
    if word in LANGUAGE_LEVELS or word == "nt2":
        return [f"{LANGUAGE}{word}"]
    if text == "WO":
        return ["opleiding:wo"]
    if text in WELDING_IN_CAPITALS or (welding_text and word in WELDING_PROCESSES):
        return [f"las:{word}"]
    for suffix in CERTIFICATE_SUFFIXES if word.endswith(CERTIFICATE_SUFFIXES) else ():  # "heftruckcertificaat"
        stem = word.removesuffix(suffix)
        if stem != word and stem in certificate_words():
            return _with_parents(certificate_words()[stem])
    return []


def _chauffeurs(folded: list[str], taken: set[int]) -> list[Span]:
    """The heftruck/reachtruck -chauffeur forms (one word, or two) where no earlier match starts."""
    found = []
    for at, word in enumerate(folded):
        if not word.startswith(CHAUFFEUR_STEMS):  # every form below starts with a stem
            continue
        for stem in CHAUFFEUR_STEMS:
            if word in (stem + suffix for suffix in CHAUFFEUR_WORDS):
                found.append((at, at + 1, [certificate_words()[stem]]))
            elif word == stem and at + 1 < len(folded) and folded[at + 1] in CHAUFFEUR_WORDS:
                found.append((at, at + 2, [certificate_words()[stem]]))
    return [one for one in found if one[0] not in taken]


def _certificate(word: str) -> str | None:
    return EXTRA_CERTIFICATES.get(word) or certificate_words().get(word)


def _certificate_forms(words: list[Token], taken: set[int]) -> list[Span]:
    """ "certificaat heftruck", "heftruck-cert.", and the order-picker truck, where no earlier match stands."""
    folded = [word.folded for word in words]
    extra = {stem + suffix for stem in EXTRA_CERTIFICATES for suffix in CERTIFICATE_SUFFIXES}
    found: list[Span] = []
    for at, word in enumerate(folded):
        following = folded[at + 1] if at + 1 < len(folded) else ""
        if at in taken:
            continue
        if word in CERTIFICATE_BEFORE and _certificate(following) and at + 1 not in taken:
            found.append((at, at + 2, [_certificate(following)]))
        elif _certificate(word) and following in CERT_AFTER:
            found.append((at, at + 2, [_certificate(word)]))
        elif word in EXTRA_CERTIFICATES and following in CERTIFICATE_SUFFIXES:
            found.append((at, at + 2, [EXTRA_CERTIFICATES[word]]))
        elif words[at].text == OPT or word in extra:
            found.append((at, at + 1, [EXTRA_CERTIFICATES["orderpickertruck"]]))
        else:
            continue
        taken.update(range(found[-1][0], found[-1][1]))
    return found


def _codes(text: str) -> list[Span]:
    """Every hyphenated code with a digit whose letters are capitals, by the tokens it covers."""
    characters = [match.span() for match in TOKEN.finditer(text)]
    found: list[Span] = []
    for match in HYPHEN_CODE.finditer(text):
        code = match.group()
        letters = [character for character in code if character.isalpha()]
        if not (any(c.isdigit() for c in code) and letters and all(c.isupper() for c in letters)):
            continue
        inside = [at for at, (start, end) in enumerate(characters) if start >= match.start() and end <= match.end()]
        if inside:
            found.append((inside[0], inside[-1] + 1, ["code:" + code.lower()]))
    return found


def _welding_numbers(folded: list[str]) -> list[Span]:
    """A welding process number with a certificate word after it or a process word before it, in any text."""
    found: list[Span] = []
    for at, word in enumerate(folded):
        if word not in WELDING_PROCESSES:
            continue
        after = folded[at + 1] if at + 1 < len(folded) else ""
        before = folded[at - 1] if at > 0 else ""
        if after in WELDING_CERTIFICATE_AFTER:  # "cert." with its full stop: "135 cert. verlopen" reads as one
            end = at + 3 if after == "cert" and folded[at + 2 : at + 3] == ["."] else at + 2
            found.append((at, end, [f"las:{word}"]))
        elif before in WELDING_PROCESS_BEFORE:
            found.append((at - 1, at + 1, [f"las:{word}"]))
    return found


def _negated_positions(folded: list[str]) -> set[int]:
    """Token positions a negation word reaches: the next :data:`NEGATION_WINDOW` of its clause, up to wel/maar."""
    reached = set()
    for at, word in enumerate(folded):
        if word not in NEGATIONS:
            continue
        for after in range(at + 1, min(at + 1 + NEGATION_WINDOW, len(folded))):
            if _scope_ends(folded, after):
                break
            reached.add(after)
    return reached


def _scope_ends(folded: list[str], at: int) -> bool:
    """A clause mark (a comma only outside a licence run: "geen rijbewijs B, C") or wel/maar ends a negation."""
    word = folded[at]
    if word == ",":
        return not (
            at + 1 < len(folded)
            and folded[at + 1] in LICENCE_CATEGORIES
            and folded[at - 1] in (LICENCE_CATEGORIES | LICENCE_WORDS)
        )
    return word in CLAUSE_ENDS or word in SCOPE_ENDS


def _at(folded: list[str], at: int, phrase: tuple[str, ...]) -> bool:
    return tuple(folded[at : at + len(phrase)]) == phrase


def _negated_behind(folded: list[str], end: int, covered: set[int]) -> bool:
    """A negation after the identifier ending at token ``end``, with only fillers and identifiers between."""
    if any(_at(folded, end, marker) for marker in NEGATED_AFTER):  # "C in aanvraag", "VCA verlopen"
        return True
    for at in range(end, min(end + AFTER_WINDOW + 1, len(folded))):
        word = folded[at]
        if word in CLAUSE_ENDS:
            return False
        if any(_at(folded, at, phrase) for phrase in NEGATED_BEHIND):
            return True
        if word in NEGATING_AFTER:  # not when it negates the identifier after it ("VCA en geen BHV")
            following = folded[at + 1] if at + 1 < len(folded) else ""
            return at + 1 not in covered and not (word == "geen" and following in NOT_NEGATING_AFTER_GEEN)
        if any(_at(folded, at, phrase) for phrase in PROVIDED_AFTER):
            return True
        if at not in covered and word not in FILLERS:
            return False
    return False


def spans(text: str) -> tuple[list[Token], list[Span]]:
    """The tokens of :func:`normalised` ``text`` and every identifier span of them (module docstring)."""
    text = normalised(text)
    words = tokens(text)
    folded = [word.folded for word in words]
    welding_text = bool(WELDING_WORDS & set(folded)) or any(word.text in WELDING_IN_CAPITALS for word in words)
    found: list[Span] = list(_matches(words, welding_text))
    taken = {at for start, end, _ in found for at in range(start, end)}
    found += _chauffeurs(folded, taken)
    taken |= {at for start, end, _ in found for at in range(start, end)}
    found += _certificate_forms(words, taken)
    found += _codes(text)
    found += _welding_numbers(folded)
    return words, found


def identifiers(text: str) -> tuple[set[str], set[str]]:
    """(held, negated) identifiers of ``text`` (module docstring); one both held and negated counts as held."""
    words, found = spans(text)
    folded = [word.folded for word in words]
    negated_at = _negated_positions(folded)
    covered = {at for start, end, _ in found for at in range(start, end)}
    held: set[str] = set()
    negated: set[str] = set()
    for start, end, names in found:
        is_negated = start in negated_at or _negated_behind(folded, end, covered)
        (negated if is_negated else held).update(names)
    return held, negated - held


def negation_free(text: str) -> str:
    """``text`` without its negation words and the words they reach (the next four of the clause after *geen*,
    *zonder*, *niet*, *nooit*; up to four of the clause before *hoeft niet*/*niet* at a clause's end, *niet nodig*,
    *nvt*, *geen eis*, ...); ``text`` itself when it holds none."""
    words = TOKEN.findall(_base_normalised(text))
    folded = [fold(word) for word in words]
    if NEGATION_STARTS.isdisjoint(folded):  # no word a negation or a not-needed phrase starts with: nothing dropped
        return text
    drop: set[int] = set()
    at = 0
    while at < len(folded):
        word = folded[at]
        following = folded[at + 1] if at + 1 < len(folded) else ""
        marker = 0
        if word in NOT_NEEDED_FIRST:
            marker = next((len(phrase) for phrase in NOT_NEEDED if _at(folded, at, phrase)), 0)
        if not marker and word in ("niet", "geen") and (not following or following in CLAUSE_ENDS):
            marker = 1  # "C/CE hoeft niet.", "CE heeft kand. niet"
        if marker:  # the marker and up to BACK_WINDOW words of its clause before it
            drop.update(range(at, at + marker))
            for before in range(at - 1, max(at - 1 - BACK_WINDOW, -1), -1):
                if folded[before] in CLAUSE_ENDS or folded[before] in SCOPE_ENDS:
                    break
                drop.add(before)
            at += marker
            continue
        if word in NEGATIONS and not (word == "geen" and following in NOT_NEGATING_AFTER_GEEN):
            drop.add(at)  # the word and the window after it
            for after in range(at + 1, min(at + 1 + NEGATION_WINDOW, len(folded))):
                if _scope_ends(folded, after):
                    break
                drop.add(after)
        at += 1
    if not drop:
        return text
    return " ".join(word for at, word in enumerate(words) if at not in drop)
