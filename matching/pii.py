"""Direct identifiers in free text: BSN-like numbers, phone numbers and e-mail addresses.

Free text (a client's own words, notes, the toelichting of a beperking) is stored, rendered and
embedded; a BSN, phone number or e-mail address there would leak into the embedding cache, the
index and every list that shows the text. Personalia have their own table
(:class:`matching.domain.ClientPersonalia`), so free text is refused when it holds one.

The detector names *what* it found, never the value: messages are shown and logged.

* **BSN-like**: nine digits (optionally written ``1234.56.782`` or ``1234 56 782``) that pass the
  elfproef, ``9·d1 + 8·d2 + … + 2·d8 − 1·d9 ≡ 0 (mod 11)``. Nine digits that fail it are left
  alone (an order or article number); about one in eleven random numbers passes, which is the
  price of not letting real BSNs through.
* **Phone number**: Dutch numbers, ten digits starting with ``0`` (``06-12345678``,
  ``020 123 4567``, ``0612345678``), or with ``+31`` / ``0031`` in front, and other international
  numbers written with ``+`` and 8 to 15 digits. Between digits a single space, ``-`` or ``.``;
  an area code may stand in brackets (``(020) 123 4567``).
* **E-mail address**: ``name@domain.tld``.
"""

from __future__ import annotations

import re

BSN = "een BSN-achtig nummer"
TELEFOON = "een telefoonnummer"
EMAIL = "een e-mailadres"

_NINE_DIGITS = re.compile(r"(?<![\d.\-])(\d{4})[ .]?(\d{2})[ .]?(\d{3})(?![\d\-]|\.\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# Dutch numbers: 0 and nine digits, or +31 / 0031 (optionally "(0)") and nine digits; single spaces,
# dots or hyphens between digits; "(020) 123 4567" style; and other international numbers written with +.
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)31[ .\-]?(?:\(0\)[ .\-]?)?|0)(?:\d[ .\-]?){8}\d(?!\d)"
    r"|\(0\d{2,3}\)[ \-]?(?:\d[ .\-]?){5,6}\d(?!\d)"
    r"|(?<![\w+])\+(?!31)\d{1,3}[ .\-]?(?:\d[ .\-]?){6,11}\d(?!\d)"
)


def elfproef(digits: str) -> bool:
    """Whether nine digits pass the BSN elfproef (weights 9…2 and −1, sum divisible by 11, not all zero)."""
    if len(digits) != 9 or not digits.isdigit() or set(digits) == {"0"}:
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return sum(int(digit) * weight for digit, weight in zip(digits, weights, strict=True)) % 11 == 0


def find_identifiers(text: str) -> list[str]:
    """The kinds of direct identifier in ``text``, in a fixed order, each at most once.

    Args:
        text: Free text, e.g. a client's ``zelfbeschrijving``.

    Returns:
        A subset of ``[BSN, TELEFOON, EMAIL]`` (Dutch phrases such as ``"een telefoonnummer"``);
        empty when none was found.
    """
    found: list[str] = []
    if any(elfproef("".join(match.groups())) for match in _NINE_DIGITS.finditer(text)):
        found.append(BSN)
    if _PHONE.search(text):
        found.append(TELEFOON)
    if _EMAIL.search(text):
        found.append(EMAIL)
    return found


def _join(kinds: list[str]) -> str:
    return kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " en " + kinds[-1]


def refuse_identifiers(text: str, kinds: tuple[str, ...] = (BSN, TELEFOON, EMAIL)) -> str:
    """``text`` unchanged, or a Dutch ``ValueError`` naming what was found (never the value).

    Args:
        text: Free text to check.
        kinds: Which kinds to refuse; a vacancy text refuses only :data:`BSN`.

    Raises:
        ValueError: ``text`` holds one of ``kinds``.
    """
    found = [kind for kind in find_identifiers(text) if kind in kinds]
    if found:
        contact = " (contactgegevens van een klant horen bij de personalia)" if found != [BSN] else ""
        raise ValueError(
            f"bevat {_join(found)}; vrije tekst wordt getoond en geïndexeerd, haal "
            f"{'het' if len(found) == 1 else 'ze'} weg{contact}"
        )
    return text
