"""What the candidate page adds to the API's list for a werkconsulent: own rejections, reason labels, the map.

Only the consulent's own caseload is read here (the same rule as :func:`api.services.werkproces.own_client`):
rejections of their own clients for this vacancy, and the PC4 centroid of their own clients for the
map. Clients of other consulenten stay where the API's list puts them: a klantnummer and a distance,
no direction (a direction plus a distance names the neighbourhood someone lives in, which the
consulent of that client knows and this one does not need).
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.services.voorstellen import KandidaatAfwijzing, VoorstelReden
from matching import geo, reasons
from matching.domain import Client, Vacancy

AFWIJS_LABELS = dict(reasons.choices(reasons.AFWIJZEN))  # the candidate card's list: the inbox's too
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
