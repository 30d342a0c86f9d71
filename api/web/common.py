"""What every page of the web UI shares: the templates, rendering with the session, errors in Dutch."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from api.problems import ProblemError
from api.services.users import Rol
from api.web.formats import FieldError, datum, getal, km, waarde
from api.web.session import ROL_NAMEN, WebSession, forget_form, kept_form
from matching.errors import WerkmatchError, dutch_message
from matching.vocab import PLAATSINGSVORM_LABELS, Plaatsingsvorm, Route

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals.update(
    ROL_NAMEN=ROL_NAMEN,
    Rol=Rol,
    ROUTES=[route.value for route in Route],
    PLAATSINGSVORMEN=[(vorm.value, PLAATSINGSVORM_LABELS[vorm]) for vorm in Plaatsingsvorm],
)
templates.env.filters.update(getal=getal, km=km, datum=datum, waarde=waarde)  # every shown number and date: Dutch


def render(request: Request, web: WebSession | None, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page, with the user, the CSRF token, the navigation the role may use and a form kept over a login."""
    kept = kept_form(request) if web else None  # once logged in again: the form of before, filled in (bewaard.js)
    page = templates.TemplateResponse(
        request,
        name,
        {"web": web, "user": web.user if web else None, "csrf": web.csrf if web else "", "bewaard": kept, **context},
        status_code=status_code,
        headers={"Cache-Control": "no-store"},  # pages hold personal data: never cached
    )
    if kept is not None:
        forget_form(page)
    return page


def field_errors(error: ValidationError, names: dict[str, str]) -> dict[str, str]:
    """Pydantic errors as ``{form field: Dutch sentence}``; ``names`` maps the schema's aliases to field names."""
    out: dict[str, str] = {}
    for item in error.errors():
        key = str(item["loc"][0]) if item["loc"] else ""
        field = names.get(key, key)
        out.setdefault(field, dutch_message({**item, "loc": ()}))  # type: ignore[typeddict-item]
    return out


def error_text(error: Exception) -> str:
    """One Dutch sentence for a domain or API error, first letter capitalised."""
    text = error.detail if isinstance(error, ProblemError) else str(error)
    return text[:1].upper() + text[1:] if isinstance(error, WerkmatchError | ProblemError) else "Er ging iets mis."


@contextmanager
def refusals(
    errors: dict[str, str],
    field: str | Callable[[str], str] = "algemeen",
    names: Mapping[str, str] | None = None,
    passes: tuple[type[Exception], ...] = (),
) -> Iterator[None]:
    """Do what a form asks; a refusal becomes the Dutch message the page shows next to its field.

    The form's action runs inside the block and returns its redirect there; after a refusal the
    code below the block shows the form again with ``errors``::

        errors: dict[str, str] = {}
        with refusals(errors, "reden"):
            switch_ranking_mode(Rangschikking(modus=modus, reden=reden), ...)
            return RedirectResponse(...)
        return page(request, web, 400, form={..., "errors": errors})

    Args:
        errors: Filled with ``{form field: Dutch sentence}``.
        field: The field a domain or API refusal is shown at, or a function of its message that says which.
        names: For invalid input (a :class:`pydantic.ValidationError`): the schema's names of the form's fields.
            A :class:`~api.web.formats.FieldError` (an unreadable number) is shown at its own field.
        passes: Refusals not shown on the form, e.g. :class:`~matching.errors.NotFoundError`, whose answer
            is the 'niet gevonden' page (the same for unknown and for another consulent's).
    """
    try:
        yield
    except passes:
        raise
    except ValidationError as error:
        errors.update(field_errors(error, names or {}))
    except FieldError as error:
        errors[error.field] = error.message
    except (WerkmatchError, ProblemError) as error:
        errors[field(str(error)) if callable(field) else field] = error_text(error)


def blank_to_none(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None
