"""Human oversight: every consulent decision on the advice has a reason, and a report shows how far they deviate.

The lists werkmatch shows are advice (AI Act art. 14; AVG art. 22 "betekenisvolle menselijke
tussenkomst"). Austria's AMAS failed in court on the question whether caseworkers' decisions were
"largely determined" by the score (``shared/reference/trust.md`` §2.1, A6); the lesson is to
*measure* how often people deviate. So:

* **A voorstel says why** (:class:`api.services.voorstellen.VoorstelReden`: ``hoogste_match``, ``kent_klant``,
  ``wens_klant``, ``ontwikkelkans``, ``werkgever_vraagt``, ``anders`` with a toelichting). The code
  is optional in the API so existing clients keep working; a voorstel without one is recorded as
  ``niet_opgegeven`` and the report says how often that happens.
* **A candidate can be rejected on a list** (:func:`api.services.voorstellen.reject_candidate`) with a
  required code of :data:`matching.reasons.REDENEN`, the inbox's list too (``anders`` needs a
  toelichting; ``gezondheid`` is refused). It is appended to the audit log and, unless the reason is
  situational, becomes a relevance-0 training label (:func:`api.services.voorstellen.declined_labels`).
* **The deviation report** (:func:`deviation_report`) reads, for each decision, the most recent
  candidate list the same user was shown for that vacancy before deciding (the inference log,
  :class:`api.services.audit.InferenceEntry`, kind ``kandidaten``) and the candidate's place in it.

**Two ranks.** ``rang`` is the place in the whole list. A werkconsulent can only propose (and reject)
clients of their own caseload, and the list shows everyone's, so the #1 is often not theirs to
pick. ``eigenRang`` counts only the clients of the decision's caseload (the client's consulent code
now) that stood above it: "the best one I could choose". The warnings use ``eigenRang``.

**Signals** (team choices, per group and overall; :data:`MIN_DECISIONS` voorstellen from a shown
list are needed before any judgement, fewer says so instead of staying silent):

* ≥ :data:`FOLLOWS_RANKING_FROM` (90 %) of the voorstellen are the own #1: the ranking is (nearly)
  always followed; lists may not really be reviewed. trust.md A6 suggests an alert when deviation
  stays under 5 % for 4 weeks; we warn earlier (under 10 %) because a warning costs a conversation
  and a missed rubber stamp costs the legal basis (AMAS).
* < :data:`USEFUL_TOP3_BELOW` (30 %) of the voorstellen come from the own top 3: with about ten own
  candidates per list, that is what picking at random gives, so the ranking may not help.
* ≥ 50 % of the voorstellen without a reason code.

The report holds counts and shares only: no klantnummers, no scores of persons. Per consulent it
names users; :mod:`api.routes.rapportages` pseudonymises them for the data scientist.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.services import tokens
from api.services.audit import InferenceEntry
from api.services.inbox import LOCAL_TIME, SUGGESTIONS, InboxItem, local_today
from api.services.users import Rol
from api.services.voorstellen import NOT_GIVEN, KandidaatAfwijzing, VoorstelMotivatie
from api.services.werkproces import Actor, record_audit
from matching import outcomes, oversight_state
from matching.domain import Client, Vacancy
from matching.errors import InvalidInputError
from matching.lookup import in_chunks
from matching.outcomes import Voorstel
from matching.settings import Settings
from matching.timeutil import aware_utc

MIN_DECISIONS = 20
FOLLOWS_RANKING_FROM = 0.9
USEFUL_TOP3_BELOW = 0.3
NO_REASON_FROM = 0.5
BUCKETS = (("1", 1, 1), ("2-3", 2, 3), ("4-10", 4, 10), (">10", 11, None))
NOT_SHOWN = "niet in getoonde lijst"
_CHUNK = 500  # values per IN (...): far below SQLite's parameter limit
REPORT_DAYS = 28  # the default period: four weeks, as trust.md's rubber-stamp monitor (A6) counts
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


# ---------------------------------------------------------------------------------------- the kill switch


def switch_ranking(session: Session, actor: Actor, modus: str, reden: str) -> None:
    """Switch every process's ranking to ``modus`` from its next search on, audited as ``actor``; the caller commits.

    ``PUT /api/v1/instellingen/rangschikking`` and ``werkmatch ranking`` both call this (a beheerder or
    a data scientist, which the caller checks).

    Raises:
        InvalidInputError: An unknown mode, or no reason.
    """
    oversight_state.set_ranking_mode(session, modus, by=actor.username, reason=reden)
    record_audit(session, actor, "rangschikking_omgezet", [], modus=modus, reden=reden)


# ---------------------------------------------------------------------------------------- the report


def report_for_days(
    engine: Engine,
    settings: Settings,
    actor: Actor,
    vanaf: date | None = None,
    tot: date | None = None,
    consulent: str | None = None,
) -> dict[str, Any]:
    """:func:`deviation_report` over whole local days ``vanaf`` to ``tot`` (inclusive), audited as ``actor``.

    The API route and ``werkmatch report deviations`` both call this. ``consulent``: only that user's
    decisions (the user name). Defaults: ``tot`` today, ``vanaf`` :data:`REPORT_DAYS` days before it.
    A data scientist gets the consulenten as pseudonyms (``P-…``, stable across reports, sorted by
    pseudonym): the report is about how the model is used, and per-person figures about employees are
    a personeelsvolgsysteem (WOR art. 27(1)(l)) that only the beheerder, who follows up, needs by name.

    Raises:
        InvalidInputError: A day outside 2000–2100, or ``vanaf`` after ``tot``.
    """
    for name, day in (("vanaf", vanaf), ("tot", tot)):  # before any arithmetic: 0001-01-01 minus 4 weeks overflows
        if day is not None and not EARLIEST <= day <= LATEST:
            raise InvalidInputError(
                f"{name} {day.isoformat()} ligt buiten {EARLIEST.year}-{LATEST.year}; kies een datum daarbinnen"
            )
    last = tot or local_today()
    first = vanaf or last - timedelta(days=REPORT_DAYS - 1)
    if first > last:
        raise InvalidInputError(f"vanaf ({first.isoformat()}) ligt na tot ({last.isoformat()}); draai de data om")
    since = datetime.combine(first, time.min, LOCAL_TIME)
    until = datetime.combine(last + timedelta(days=1), time.min, LOCAL_TIME)
    with Session(engine) as session:
        report = deviation_report(session, since, until, consulent)
        period = {"vanaf": first.isoformat(), "tot": last.isoformat()}
        scope = {"consulent": consulent} if consulent is not None else {}
        record_audit(session, actor, "afwijkingsrapport_opgevraagd", [], **period, **scope)
        session.commit()
    if actor.rol == Rol.DATA_SCIENTIST:
        for group in report["perConsulent"]:
            group["consulent"] = tokens.pseudonym(settings, "afwijkingsrapport", group["consulent"])
        report["perConsulent"].sort(key=lambda group: group["consulent"])  # the order of the names would tell
    return {**report, "vanaf": first, "tot": last}


@dataclass
class _Decision:
    kind: str  # "voorstel" or "afwijzing"
    actor: str
    caseload: str
    klant: str
    vacature: str
    at: datetime
    reden: str
    via_inbox: bool = False
    list_id: int | None = None
    rank: int | None = None
    own_rank: int | None = None


def deviation_report(
    session: Session, since: datetime, until: datetime, consulent: str | None = None
) -> dict[str, Any]:
    """How consulenten decided on candidate lists between ``since`` (inclusive) and ``until`` (exclusive).

    Args:
        session: An open session.
        since: Start, aware.
        until: End, aware, after ``since``.
        consulent: Only this user's decisions (the user name, as in ``Voorstel.made_by``).

    Returns:
        ``{"vanaf", "tot", "totaal": group, "perConsulent": [group + "consulent"], "drempels"}``. A
        group holds ``beslissingen``, ``voorstellen`` (``aantal``, ``viaInbox``, ``rang`` and
        ``eigenRang`` as buckets ``1``, ``2-3``, ``4-10``, ``>10`` and ``niet in getoonde lijst`` with
        ``aantal`` and ``aandeel``, ``redenen``), ``afwijzingen`` (``aantal``, ``rang``, ``eigenRang``,
        ``redenen``), ``lijsten`` (lists decided on; ``top3Gepasseerd``: a lower own candidate was
        proposed while one of the own top 3 was not; ``top3Afgewezen``: one of the own top 3 was
        rejected) and ``signalen`` (Dutch).

    Raises:
        InvalidInputError: A time without a time zone, or ``since`` not before ``until``.
    """
    for name, moment in (("vanaf", since), ("tot", until)):
        aware_utc(moment, name)  # checked only: the report answers the moments as given
    if since >= until:
        raise InvalidInputError("'vanaf' ligt niet vóór 'tot'; kies een periode van minstens één dag")
    decisions = [*_voorstellen(session, since, until, consulent), *_afwijzingen(session, since, until, consulent)]
    _place_in_lists(session, decisions, until)
    by_actor: dict[str, list[_Decision]] = defaultdict(list)
    for decision in decisions:
        by_actor[decision.actor].append(decision)
    return {
        "vanaf": since,
        "tot": until,
        "totaal": _group(decisions, "Consulenten volgen"),
        "perConsulent": [
            {"consulent": actor, **_group(rows, "Deze consulent volgt")} for actor, rows in sorted(by_actor.items())
        ],
        "drempels": {
            "minimumBeslissingen": MIN_DECISIONS,
            "volgtRangordeVanaf": FOLLOWS_RANKING_FROM,
            "top3NuttigVanaf": USEFUL_TOP3_BELOW,
            "zonderRedenVanaf": NO_REASON_FROM,
        },
    }


def _voorstellen(session: Session, since: datetime, until: datetime, consulent: str | None) -> list[_Decision]:
    conditions: list[Any] = [
        Voorstel.made_by_role == outcomes.Rol.CONSULENT.value,
        Voorstel.created_at >= since,  # type: ignore[operator]
        Voorstel.created_at < until,  # type: ignore[operator]
    ]
    if consulent is not None:
        conditions.append(Voorstel.made_by == consulent)
    rows = session.exec(
        select(Voorstel, Client.client_nummer, Client.consulent, Vacancy.vacature_nummer, VoorstelMotivatie.reason_code)
        .join(Client, Client.id == Voorstel.client_id)  # type: ignore[arg-type]
        .join(Vacancy, Vacancy.id == Voorstel.vacancy_id)  # type: ignore[arg-type]
        .outerjoin(VoorstelMotivatie, VoorstelMotivatie.voorstel_id == Voorstel.id)  # type: ignore[arg-type]
        .where(*conditions)
        .order_by(Voorstel.created_at, Voorstel.id)  # type: ignore[arg-type]
    ).all()
    ids = [voorstel.id for voorstel, *_ in rows]
    from_inbox: set[int] = set()
    for chunk in in_chunks(ids, _CHUNK):
        from_inbox.update(
            session.exec(
                select(InboxItem.voorstel_id).where(
                    InboxItem.voorstel_id.in_(chunk),  # type: ignore[union-attr]
                    InboxItem.soort.in_(SUGGESTIONS),  # type: ignore[attr-defined]
                )
            ).all()  # type: ignore[arg-type]
        )
    return [
        _Decision(
            "voorstel",
            voorstel.made_by,
            caseload,
            klant,
            vacature,
            voorstel.created_at,
            reden or NOT_GIVEN,
            via_inbox=voorstel.id in from_inbox,
        )
        for voorstel, klant, caseload, vacature, reden in rows
    ]


def _afwijzingen(session: Session, since: datetime, until: datetime, consulent: str | None) -> list[_Decision]:
    conditions: list[Any] = [KandidaatAfwijzing.at >= since, KandidaatAfwijzing.at < until]  # type: ignore[operator]
    if consulent is not None:
        conditions.append(KandidaatAfwijzing.actor == consulent)
    rows = session.exec(
        select(KandidaatAfwijzing, Client.client_nummer, Vacancy.vacature_nummer)
        .join(Client, Client.id == KandidaatAfwijzing.client_id)  # type: ignore[arg-type]
        .join(Vacancy, Vacancy.id == KandidaatAfwijzing.vacancy_id)  # type: ignore[arg-type]
        .where(*conditions)
        .order_by(KandidaatAfwijzing.at, KandidaatAfwijzing.id)  # type: ignore[arg-type]
    ).all()
    return [
        _Decision("afwijzing", row.actor, row.consulent, klant, vacature, row.at, row.reason_code)
        for row, klant, vacature in rows
    ]


def _place_in_lists(session: Session, decisions: list[_Decision], until: datetime) -> None:
    """Set ``list_id``, ``rank`` and ``own_rank`` of each decision from the lists its user was shown."""
    actors = sorted({d.actor for d in decisions})
    vacatures = sorted({d.vacature for d in decisions})
    lists: dict[tuple[str, str], list[tuple[datetime, int, list[str]]]] = defaultdict(list)
    for actor_chunk in in_chunks(actors, _CHUNK):
        for vacancy_chunk in in_chunks(vacatures, _CHUNK):
            rows = session.exec(
                select(
                    InferenceEntry.at,
                    InferenceEntry.id,
                    InferenceEntry.actor,
                    InferenceEntry.query_ref,
                    InferenceEntry.output,
                ).where(
                    InferenceEntry.kind == "kandidaten",
                    InferenceEntry.actor.in_(actor_chunk),  # type: ignore[attr-defined]
                    InferenceEntry.query_ref.in_(vacancy_chunk),  # type: ignore[attr-defined]
                    InferenceEntry.at < until,  # type: ignore[operator]
                )
            ).all()
            for at, entry_id, actor, vacature, output in rows:
                lists[(actor, vacature)].append((at, entry_id, [str(pair[0]) for pair in output]))
    for shown in lists.values():
        shown.sort(key=lambda item: (item[0], item[1]))
    chosen: dict[int, list[str]] = {}
    for decision in decisions:
        shown = lists.get((decision.actor, decision.vacature), [])
        position = bisect_right([item[0] for item in shown], decision.at)
        if position:
            _, decision.list_id, chosen[decision.list_id] = shown[position - 1]
    owners = _owners(session, {klant for order in chosen.values() for klant in order})
    for decision in decisions:
        if decision.list_id is None:
            continue
        order = chosen[decision.list_id]
        if decision.klant in order:
            decision.rank = order.index(decision.klant) + 1
            own = [klant for klant in order if owners.get(klant) == decision.caseload]
            decision.own_rank = own.index(decision.klant) + 1 if decision.klant in own else None


def _owners(session: Session, numbers: Iterable[str]) -> dict[str, str]:
    owners: dict[str, str] = {}
    for chunk in in_chunks(sorted(numbers), _CHUNK):
        owners.update(
            session.exec(select(Client.client_nummer, Client.consulent).where(Client.client_nummer.in_(chunk))).all()  # type: ignore[attr-defined,arg-type]
        )
    return owners


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _buckets(ranks: list[int | None]) -> list[dict[str, Any]]:
    counts = []
    for label, low, high in BUCKETS:
        n = sum(1 for r in ranks if r is not None and r >= low and (high is None or r <= high))
        counts.append({"rang": label, "aantal": n, "aandeel": _share(n, len(ranks))})
    unseen = sum(1 for r in ranks if r is None)
    counts.append({"rang": NOT_SHOWN, "aantal": unseen, "aandeel": _share(unseen, len(ranks))})
    return counts


def _reasons(rows: list[_Decision]) -> list[dict[str, Any]]:
    counted = Counter(row.reden for row in rows)
    return [{"code": code, "aantal": n} for code, n in sorted(counted.items(), key=lambda item: (-item[1], item[0]))]


def _lists(decisions: list[_Decision]) -> dict[str, Any]:
    """Per list decided on: was one of the own top 3 passed over for someone lower, or rejected?"""
    per_list: dict[tuple[str, int], list[_Decision]] = defaultdict(list)
    for decision in decisions:
        if decision.list_id is not None and decision.own_rank is not None:
            per_list[(decision.actor, decision.list_id)].append(decision)
    passed = rejected = 0
    for rows in per_list.values():
        proposed = {d.own_rank for d in rows if d.kind == "voorstel"}
        turned_down = {d.own_rank for d in rows if d.kind == "afwijzing"}
        lowest_proposed = max(proposed, default=0)
        passed += any(rank < lowest_proposed and rank not in proposed for rank in (1, 2, 3))
        rejected += any(rank in turned_down for rank in (1, 2, 3))
    total = len(per_list)
    return {
        "aantal": total,
        "top3Gepasseerd": {"aantal": passed, "aandeel": _share(passed, total)},
        "top3Afgewezen": {"aantal": rejected, "aandeel": _share(rejected, total)},
    }


def _group(decisions: list[_Decision], who: str) -> dict[str, Any]:
    voorstellen = [d for d in decisions if d.kind == "voorstel"]
    afwijzingen = [d for d in decisions if d.kind == "afwijzing"]
    return {
        "beslissingen": len(decisions),
        "voorstellen": {
            "aantal": len(voorstellen),
            "viaInbox": sum(d.via_inbox for d in voorstellen),
            "rang": _buckets([d.rank for d in voorstellen]),
            "eigenRang": _buckets([d.own_rank for d in voorstellen]),
            "redenen": _reasons(voorstellen),
        },
        "afwijzingen": {
            "aantal": len(afwijzingen),
            "rang": _buckets([d.rank for d in afwijzingen]),
            "eigenRang": _buckets([d.own_rank for d in afwijzingen]),
            "redenen": _reasons(afwijzingen),
        },
        "lijsten": _lists(decisions),
        "signalen": _signals(voorstellen, who),
    }


def _percent(share: float) -> str:
    return f"{round(share * 100)} %"


def _signals(voorstellen: list[_Decision], who: str) -> list[str]:
    """The Dutch warnings for one group (see the module docstring for the thresholds)."""
    signals: list[str] = []
    ranked = [d.own_rank for d in voorstellen if d.own_rank is not None]
    if len(ranked) < MIN_DECISIONS:
        signals.append(
            f"Te weinig voorstellen uit een getoonde kandidatenlijst ({len(ranked)}) om afwijkingen van de "
            f"rangorde te beoordelen; daarvoor zijn er minstens {MIN_DECISIONS} nodig."
        )
    else:
        first = sum(1 for rank in ranked if rank == 1) / len(ranked)
        top3 = sum(1 for rank in ranked if rank <= 3) / len(ranked)
        if first >= FOLLOWS_RANKING_FROM:
            signals.append(
                f"{who} de rangorde bijna altijd ({_percent(first)} van de voorstellen is de bovenste eigen "
                "kandidaat); controleer of lijsten echt beoordeeld worden."
            )
        if top3 < USEFUL_TOP3_BELOW:
            signals.append(
                f"Slechts {_percent(top3)} van de voorstellen komt uit de eigen top 3; de rangorde helpt "
                "mogelijk niet. Laat een data scientist de lijsten en de redenen bekijken."
            )
    if voorstellen:
        without = sum(1 for d in voorstellen if d.reden == NOT_GIVEN) / len(voorstellen)
        if without >= NO_REASON_FROM:
            signals.append(
                f"Bij {_percent(without)} van de voorstellen is geen reden vastgelegd; vraag consulenten "
                "de redencode op te geven."
            )
    return signals
