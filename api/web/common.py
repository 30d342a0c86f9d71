"""What every page of the web UI shares: the templates, rendering with the session, errors in Dutch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from api.problems import ProblemError
from api.services.users import Rol
from api.web.session import ROL_NAMEN, WebSession
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


def render(request: Request, web: WebSession | None, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page, with the user, the CSRF token and the navigation the role may use."""
    return templates.TemplateResponse(
        request,
        name,
        {"web": web, "user": web.user if web else None, "csrf": web.csrf if web else "", **context},
        status_code=status_code,
        headers={"Cache-Control": "no-store"},  # pages hold personal data: never cached
    )


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


def blank_to_none(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None
