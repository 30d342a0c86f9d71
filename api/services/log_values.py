"""What a row of the audit or the inference log may hold: short texts, plain JSON, never a BSN.

Both logs (:mod:`api.services.audit`) keep pseudonymous numbers only; these checks refuse a value
that looks like a BSN (9 digits) anywhere, and a value that has no single JSON form (a float where
the hash needs one, NaN, a lone surrogate, a key that is no text). Every refusal is Dutch and names
the field, never the value when the value may be personal.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from matching.errors import InvalidInputError

_BSN_LIKE = re.compile(r"^\d{9}$")  # as matching.domain.BSN_LIKE, also when padded with spaces


def text(value: str, name: str, max_length: int) -> str:
    """``value`` stripped: not empty, at most ``max_length`` characters, not BSN-like."""
    cleaned = (value or "").strip() if isinstance(value, str) else ""
    if not cleaned:
        raise InvalidInputError(f"{name} ontbreekt; vul {name} in")
    if len(cleaned) > max_length:
        raise InvalidInputError(f"{name} mag hoogstens {max_length} tekens bevatten, niet {len(cleaned)}")
    refuse_bsn(cleaned, name)
    return cleaned


def optional_text(value: str | None, name: str, max_length: int) -> str | None:
    """:func:`text`, or None for an empty value."""
    if value is None or not str(value).strip():
        return None
    return text(str(value), name, max_length)


def reference(value: Any, name: str, max_length: int) -> str:
    """A klant- or vacaturenummer (a text or an integer) as text."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInputError(f"{name} moet een klant- of vacaturenummer zijn, niet {type(value).__name__}")
    return text(str(value), name, max_length)


def json_object(value: Mapping[str, Any], name: str, *, allow_floats: bool) -> dict[str, Any]:
    """A deep copy of ``value`` as plain JSON (:func:`json_value`); refuses what is not an object."""
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{name} moet een JSON-object zijn, niet {type(value).__name__}")
    return json_value(value, name, allow_floats)


def json_value(value: Any, path: str, allow_floats: bool) -> Any:
    """A deep copy as plain JSON values; refuses what has no single JSON form, and BSN-like numbers."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        refuse_bsn(str(value), path)
        return value
    if isinstance(value, float):
        if not allow_floats:
            raise InvalidInputError(f"{path} is een kommagetal ({value}); geef het als tekst of geheel getal")
        if not math.isfinite(value):
            raise InvalidInputError(f"{path} is geen eindig getal ({value})")
        return value
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            raise InvalidInputError(f"{path} bevat een ongeldig teken (losse surrogaat)") from None
        refuse_bsn(value, path)
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError(f"{path} heeft een sleutel die geen tekst is: {key!r}")
            out[key] = json_value(item, f"{path}.{key}", allow_floats)
        return out
    if isinstance(value, list | tuple):
        return [json_value(item, f"{path}[{i}]", allow_floats) for i, item in enumerate(value)]
    raise InvalidInputError(f"{path} is geen JSON-waarde ({type(value).__name__})")


def refuse_bsn(value: str, name: str) -> None:
    """Refuse a value that looks like a BSN (9 digits): the logs hold pseudonymous numbers only."""
    if _BSN_LIKE.match(value.strip()):
        raise InvalidInputError(f"{name} lijkt op een BSN (9 cijfers); log alleen pseudonieme klantnummers")
