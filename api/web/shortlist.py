"""What the candidate page adds to the API's list for a werkconsulent: own rejections and proposals, reason
labels, the map, the "alleen mijn klanten" switch and, on the vacancy list, how many own clients fit.

Only the consulent's own caseload is read here (the same rule as :func:`api.services.werkproces.own_client`):
rejections and open proposals of their own clients for this vacancy, and the PC4 centroid of their own
clients for the map. Clients of other consulenten stay where the API's list puts them: a klantnummer and a distance,
no direction (a direction plus a distance names the neighbourhood someone lives in, which the
consulent of that client knows and this one does not need).
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.services import matches
from api.services.users import Rol, User
from api.services.voorstellen import KandidaatAfwijzing, VoorstelReden
from matching import geo, reasons
from matching.domain import Client, Vacancy
from matching.hard_filters import CandidateFilters
from matching.matcher import Matcher
from matching.outcomes import OPEN_STATUSES, Voorstel

AFWIJS_LABELS = dict(reasons.choices(reasons.REDENEN))  # the candidate card's list: the inbox's too
VOORSTEL_LABELS = {
    VoorstelReden.HOOGSTE_MATCH: "beste match op de lijst",
    VoorstelReden.KENT_KLANT: "ik ken de klant: dit past",
    VoorstelReden.WENS_KLANT: "de klant wil dit werk",
    VoorstelReden.ONTWIKKELKANS: "ontwikkelkans, een stap op de ladder",
    VoorstelReden.WERKGEVER_VRAAGT: "werkgever of accountmanager vraagt erom",
    VoorstelReden.ANDERS: "anders",
}
COMPASS = ("noord", "noordoost", "oost", "zuidoost", "zuid", "zuidwest", "west", "noordwest")
SAME_AREA_KM = 0.5  # closer than this the direction says nothing: the same PC4 area
KM_PER_DEGREE_LAT = 110.57
KM_PER_DEGREE_LON_EQUATOR = 111.32
# The "alleen mijn klanten" switch in the URL. The form sends a hidden "nee" before the checkbox's "ja", so
# an unticked box ("nee" alone) is told apart from a first visit (nothing): then the role's default counts.
OWN_PARAM, OWN_ON, OWN_OFF = "eigen", "ja", "nee"
OWN_FILTER = CandidateFilters(own_only=True)


def own_only(params: dict[str, list[str]], user: User) -> bool:
    """Whether the list keeps only the user's own clients: as the URL says, else on for a consulent with a caseload."""
    chosen = params.get(OWN_PARAM)
    if chosen:
        return OWN_ON in chosen
    return user.rol == Rol.WERKCONSULENT and bool(user.consulent)


def all_clients_query(query: str) -> str:
    """``query`` (the list's filters) with "alleen mijn klanten" switched off: the link under an own-only list."""
    kept = [(name, value) for name, value in parse_qsl(query) if name != OWN_PARAM]
    return urlencode([*kept, (OWN_PARAM, OWN_OFF)])


def own_counts(matcher: Matcher, user: User, vacancies: list[Vacancy]) -> dict[int, int]:
    """Per open vacancy of ``vacancies`` (one page), how many of the user's own clients pass every hard filter.

    The same filter as the list's "alleen mijn klanten" (:data:`OWN_FILTER`); empty for a user without a caseload.
    """
    viewer = matches.viewer_for(user, matches.DEFAULT_PURPOSE)
    if viewer.caseload is None:
        return {}
    ids = [vacancy.id for vacancy in vacancies if vacancy.id is not None]
    return matcher.count_candidates(ids, OWN_FILTER, viewer)


def own_proposals(engine: Engine, vacature_nummer: str, consulent: str | None) -> dict[str, dict[str, Any]]:
    """The open proposal per own client for the vacancy: ``{klantnummer: {id, status, op}}`` (one per pair)."""
    if not consulent:
        return {}
    with Session(engine) as session:
        rows = session.exec(
            select(Voorstel, Client.client_nummer)
            .join(Client, Client.id == Voorstel.client_id)  # type: ignore[arg-type]
            .join(Vacancy, Vacancy.id == Voorstel.vacancy_id)  # type: ignore[arg-type]
            .where(
                Vacancy.vacature_nummer == vacature_nummer,
                Client.consulent == consulent,
                Voorstel.status.in_([status.value for status in OPEN_STATUSES]),  # type: ignore[attr-defined]
            )
        ).all()
    return {nummer: {"id": row.id, "status": row.status, "op": row.created_at} for row, nummer in rows}


def own_rejections(engine: Engine, vacancy: Vacancy, consulent: str | None) -> dict[str, dict[str, Any]]:
    """The latest rejection per own client for ``vacancy``: ``{klantnummer: {reden, label, toelichting, door, op}}``."""
    if not consulent:
        return {}
    with Session(engine) as session:
        rows = session.exec(
            select(KandidaatAfwijzing, Client.client_nummer)
            .join(Client, Client.id == KandidaatAfwijzing.client_id)  # type: ignore[arg-type]
            .where(KandidaatAfwijzing.vacancy_id == vacancy.id, Client.consulent == consulent)
            .order_by(KandidaatAfwijzing.at, KandidaatAfwijzing.id)  # type: ignore[arg-type]
        ).all()
    return {
        nummer: {
            "reden": row.reason_code,
            "label": reasons.label(row.reason_code),
            "toelichting": row.toelichting,
            "door": row.actor,
            "op": row.at,
        }
        for row, nummer in rows  # later rows overwrite earlier ones: the latest counts
    }


def direction(east_km: float, north_km: float) -> str:
    """The compass direction in Dutch (eight winds) of a point ``east_km``, ``north_km`` from the centre."""
    if math.hypot(east_km, north_km) < SAME_AREA_KM:
        return "zelfde postcodegebied"
    degrees = math.degrees(math.atan2(east_km, north_km)) % 360  # 0 = north, clockwise
    return COMPASS[round(degrees / 45) % 8]


def map_points(
    engine: Engine, vacancy: Vacancy, results: list[dict[str, Any]], consulent: str | None
) -> list[dict[str, Any]]:
    """Own clients on the list placed by the direction and distance of their PC4 centroid from the vacancy's.

    Returns:
        One dict per own candidate with a known PC4: ``rank``, ``label`` (klantnummer), ``east`` and
        ``north`` (km from the vacancy), ``km`` (the list's distance) and ``richting`` (Dutch). Empty
        without own candidates or when the vacancy's PC4 is unknown.
    """
    own = [item["klantId"] for item in results if item.get("eigenKlant")]
    table = geo.load_pc4()
    origin = (vacancy.postcode or "")[:4]
    if not own or not consulent or origin not in table.position:
        return []
    with Session(engine) as session:
        postcodes = dict(
            session.exec(
                select(Client.client_nummer, Client.postcode).where(
                    Client.client_nummer.in_(own),  # type: ignore[attr-defined]
                    Client.consulent == consulent,
                )
            ).all()
        )
    lat0, lon0 = table.coordinates(origin)
    points = []
    for item in results:
        pc4 = (postcodes.get(item["klantId"]) or "")[:4]
        if pc4 not in table.position:
            continue
        lat, lon = table.coordinates(pc4)
        east = (lon - lon0) * math.cos(math.radians(lat0)) * KM_PER_DEGREE_LON_EQUATOR
        north = (lat - lat0) * KM_PER_DEGREE_LAT
        points.append(
            {
                "rank": int(item["rang"]),
                "label": item["klantId"],
                "east": east,
                "north": north,
                "km": float(item["afstandKm"]),
                "richting": direction(east, north),
            }
        )
    return points
