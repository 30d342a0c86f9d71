"""The memoised word fold (:func:`matching.gendered.neutral_word`, the faster :func:`fold` and
:func:`neutral_text`) gives exactly what the plain per-match code gave, on every word of the shipped
vocabulary, of generated records, and on generated feminine, plural, capitalised and accented forms."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pytest

from matching import gendered
from matching.gendered import ATTESTED_FILE, IRREGULAR, fold, job_words, neutral_form, neutral_text, neutral_word
from matching.taxonomy import load_taxonomy
from training.synthetic import generate

_WORD = re.compile(r"[^\W\d_]+")


def plain_fold(word: str) -> str:
    """The fold as it was: NFKD, then every combining character dropped one by one."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _plain_word(match: re.Match[str]) -> str:
    found = match.group(0)
    folded = plain_fold(found)
    neutral = neutral_form(folded)
    return found if neutral == folded else gendered.keep_case(found, neutral)


def plain_neutral_text(text: str) -> str:
    """The running-text fold as it was: a regex substitution, one call per match, nothing memoised."""
    return _WORD.sub(_plain_word, text)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _strings(item)]
    return []


@pytest.fixture(scope="module")
def record_texts() -> list[str]:
    """Every string field of a small generated population (the demo world's generator)."""
    data = generate(300, 200, seed=11)
    return [text for record in (*data.clients, *data.vacancies) for text in _strings(record.model_dump(mode="json"))]


def _vocabulary() -> set[str]:
    taxonomy = load_taxonomy()
    texts = [
        name for occupation in taxonomy.occupations.values() for name in (occupation.label, *occupation.synoniemen)
    ]
    texts += [competence.label for competence in taxonomy.competences.values()]
    words = {word for text in texts for word in _WORD.findall(text)}
    words |= set(job_words()) | set(IRREGULAR) | set(IRREGULAR.values())
    for line in ATTESTED_FILE.read_text(encoding="utf-8").splitlines()[2:]:
        words.update(line.split("\t"))
    return words


def _generated_forms(words: set[str]) -> set[str]:
    """Feminine and plural forms of the job words, each in lower case, capitalised, upper case and with an accent."""
    suffixes = ("ster", "sters", "e", "es", "in", "innen", "es", "essen", "euse", "trice", "iere", "vrouw", "meisje")
    stems = sorted(job_words())[::7]
    forms = {stem + suffix for stem in stems for suffix in suffixes}
    forms |= {stem[:-2] + suffix for stem in stems if stem.endswith("er") for suffix in ("ster", "sters", "ster")}
    forms |= {word + "s" for word in sorted(words)[::5]}
    forms |= words
    cased = {variant for form in forms for variant in (form, form.capitalize(), form.upper())}
    accented = {form.replace("e", "è", 1) for form in sorted(cased)[::3]} | {form.replace("ie", "ië") for form in cased}
    return cased | accented


ODD = [
    "Caissière",
    "CAISSIÈRE",
    "İstanbul",
    "\u212aok",  # KELVIN SIGN: lower case is an ASCII k
    "ﬁetskoerierster",  # a ligature NFKD splits
    "Straße",
    "ǅ",
    "Ærø",
    "naïef",
    "re\u0301ceptioniste",  # an accent already decomposed
    "ΣΟΦΙΑ",
    "Ça",
    "Ｋｏｋｋｉｎ",  # full-width letters
    "",
]


def test_the_fold_equals_the_plain_fold_on_every_word(record_texts: list[str]) -> None:
    words = _generated_forms(_vocabulary()) | {w for text in record_texts for w in _WORD.findall(text)} | set(ODD)
    assert len(words) > 5_000
    assert [fold(word) for word in sorted(words)] == [plain_fold(word) for word in sorted(words)]
    # and on whole texts, as matching.lexical folds them
    for text in [*record_texts, " ".join(ODD), "x\u0301\u0327y 12_ab"]:
        assert fold(text) == plain_fold(text)


def test_the_memoised_word_equals_the_plain_one_on_every_word(record_texts: list[str]) -> None:
    words = sorted(_generated_forms(_vocabulary()) | {w for text in record_texts for w in _WORD.findall(text)})
    words += [w for w in ODD if _WORD.fullmatch(w)]  # what neutral_text hands it: one match (a mark splits one)
    changed = 0
    for word in words:
        expected = plain_neutral_text(word)
        assert neutral_word(word) == expected, word
        assert neutral_word(word) == expected, word  # the second call comes from the cache
        changed += expected != word
    assert changed > 500  # the generated feminine forms do fold


def test_running_text_equals_the_plain_substitution(record_texts: list[str]) -> None:
    texts = [*record_texts, " ".join(ODD), "Ik was Kassière, nu 2 jr. schoonmaakster_bij X-medewerkster!", "", "123"]
    texts += [" / ".join(sorted(_generated_forms(_vocabulary()))[i::50]) for i in range(50)]
    for text in texts:
        assert neutral_text(text) == plain_neutral_text(text), text


def test_the_word_cache_is_bounded() -> None:
    info = neutral_word.cache_info()
    assert info.maxsize is not None and info.maxsize <= 131_072
