"""Gendered Dutch job words: one list, read by BM25 (to fold) and by the counterfactual test (to swap).

Dutch marks gender in many job titles (schoonmaakster / schoonmaker, verpleegster /
verpleegkundige). The Snowball stemmer keeps most pairs apart ("medewerkster" → "medewerkst",
"medewerker" → "medewerker"), so a profile written in the feminine form would lose the word match
with a vacancy written in the masculine one — the counterfactual test (``training/counterfactual.py``)
found exactly that. :func:`neutral_form` maps a feminine form (also at the end of a compound:
"magazijnmedewerkster") to its masculine or neutral counterpart before stemming.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# (feminine, masculine or neutral, compounds allowed): singular and plural. "Compounds allowed"
# lets the form end a longer word ("magazijnmedewerker" -> "magazijnmedewerkster"); short forms
# that end unrelated words ("ober" in "oktober", "kok") only match as whole words.
PAIRS: tuple[tuple[str, str, bool], ...] = (
    ("schoonmaakster", "schoonmaker", True),
    ("schoonmaaksters", "schoonmakers", True),
    ("verpleegster", "verpleegkundige", True),
    ("verpleegsters", "verpleegkundigen", True),
    ("medewerkster", "medewerker", True),
    ("medewerksters", "medewerkers", True),
    ("verkoopster", "verkoper", True),
    ("verkoopsters", "verkopers", True),
    ("kapster", "kapper", False),
    ("kapsters", "kappers", False),
    ("serveerster", "ober", False),
    ("serveersters", "obers", False),
    ("kokkin", "kok", False),
    ("kokkinnen", "koks", False),
    ("chauffeuse", "chauffeur", True),
    ("chauffeuses", "chauffeurs", True),
    ("secretaresse", "secretaris", False),
    ("secretaresses", "secretarissen", False),
    ("receptioniste", "receptionist", True),
    ("receptionistes", "receptionisten", True),
    ("assistente", "assistent", True),
    ("assistentes", "assistenten", True),
    ("begeleidster", "begeleider", True),
    ("begeleidsters", "begeleiders", True),
    ("verzorgster", "verzorger", True),
    ("verzorgsters", "verzorgers", True),
    ("bezorgster", "bezorger", True),
    ("bezorgsters", "bezorgers", True),
    ("inpakster", "inpakker", False),
    ("inpaksters", "inpakkers", False),
    ("naaister", "naaier", True),
    ("naaisters", "naaiers", True),
    ("caissière", "caissier", False),
    ("caissières", "caissiers", False),
    ("lerares", "leraar", False),
    ("leraressen", "leraren", False),
    ("gastvrouw", "gastheer", False),
    ("gastvrouwen", "gastheren", False),
    ("werkneemster", "werknemer", False),
    ("werkneemsters", "werknemers", False),
    ("kamermeisje", "kamerjongen", False),
    ("kamermeisjes", "kamerjongens", False),
)


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_NEUTRAL = {_fold(feminine): _fold(neutral) for feminine, neutral, _ in PAIRS}
_TAILS = sorted((_fold(feminine) for feminine, _, compounds in PAIRS if compounds), key=len, reverse=True)


@lru_cache(maxsize=65_536)
def neutral_form(word: str) -> str:
    """A lower-cased, accent-free word with a feminine job form replaced by its counterpart."""
    if word in _NEUTRAL:
        return _NEUTRAL[word]
    for tail in _TAILS:
        if word.endswith(tail) and len(word) > len(tail):
            return word[: -len(tail)] + _NEUTRAL[tail]
    return word
