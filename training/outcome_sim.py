"""A few years of proposals (voorstellen) and their outcomes, simulated on the synthetic bestand.

Real outcomes are scarce and biased by who was proposed; the learned ranker needs a history that
has the same flaws as a real one, and the fairness work needs discrimination it can find. The
story, per vacancy (all generated vacancies, each posted on a random day in the simulated years):

1. **Who is proposed: afromen.** A consulent proposes about ``proposals_per_place`` clients per
   place among those that pass the *observable* hard filters (hours, travel wish, working times),
   drawn with probability ∝ exp(``afromen`` · z), where z is the standardised *obvious* score a
   consulent sees: recorded trede, experience in the occupation, recorded competences asked,
   distance. High ``afromen`` = the same "most promising" people again and again (DOMAIN.md).
2. **Invitation.** logit = 0.2 + 0.9 · s + bias + N(0, ``noise``), where s is the hidden true
   suitability of :mod:`training.latent` and *bias* is the labour-market discrimination Dutch field
   experiments document at this stage: a non-western migration background −0.6, age 45–54 −0.3,
   55 and over −0.7 (logit units; SCP and Andriessen et al. find callback gaps of roughly this size).
   A client who is not truly eligible is almost never invited (logit −3).
3. **Hiring.** Among the invited, logit = 0.6 · s + 0.5 · bias + N(0, ``noise``); at most
   ``aantal_plaatsen`` hires per vacancy (the highest logits above 0), the rest afgewezen.
4. **Placement and duration.** An accepted hire is geplaatst with chance 0.92 (else uitgevallen:
   past_niet_bij_wensen, the client withdraws); after six months duurzaam with chance
   sigmoid(0.8 · s + N(0, ``noise``)), else uitgevallen.

Every afwijzing and uitval carries a *job-related* reason, read from the observable gaps (missing
competences, no experience, language, travel) or else a neutral one. Discrimination therefore never
shows as a reason, only in the rates: exactly what a fairness audit must uncover. Timestamps advance
a few days per step; nothing after ``end`` happens, so recent proposals are still open.

How much can be learned: the labels are driven by s plus noise, and s is itself only partly
visible in the profile (see :mod:`training.latent`); :func:`explainable_share` measures both.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, select
from tqdm import tqdm

from matching import outcomes, scoring
from matching.domain import AuditKenmerken, Client, Vacancy
from matching.outcomes import Voorstel, VoorstelEvent
from matching.side_state import read_chunks
from matching.structured import ClientArrays, VacancyArrays, Vocabularies
from matching.taxonomy import load_taxonomy
from training import latent
from training.synthetic import DEFAULT_REFERENCE_DATE
from training.truth_arrays import Codebook

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimulationSettings:
    """The knobs of the story in the module docstring (logit units unless said otherwise)."""

    years: float = 3.0
    end: date = DEFAULT_REFERENCE_DATE
    proposals_per_place: float = 3.0
    afromen: float = 2.5
    noise: float = 0.8
    bias_non_western: float = -0.6
    bias_age_45: float = -0.3
    bias_age_55: float = -0.7
    placement_rate: float = 0.92
    max_vacancies: int | None = None  # only the first this many vacancies (by id): a prefix of the full history
    first_vacancy: int = 0  # skip the vacancies (by id) before this index: extends or resumes a stored history


TRANSACTION_PROPOSALS = 2_000
"""Proposals written per database transaction (SQLite here syncs to disk on every commit)."""
AUDIT_CHUNK = 5_000
"""Client ids asked of the audit table at a time (SQLite takes at most 32,766 parameters a query)."""


@dataclass
class Step:
    status: str
    at: datetime
    reason: str | None = None


@dataclass
class SimulatedProposal:
    """One voorstel and the states it went through, in time order (the first is voorgesteld)."""

    client_id: int
    vacancy_id: int
    consulent: str
    steps: list[Step] = field(default_factory=list)
    true_suitability: float = 0.0  # kept for analysis only; never written to a table matching reads
    obvious: float = 0.0  # the standardised score the consulent saw when proposing

    @property
    def final(self) -> str:
        return self.steps[-1].status


def audit_columns(session: Session, ids: np.ndarray | None = None) -> dict[int, Any]:
    """Per client the audit-only columns the story reads (migration background, birth year), as light rows:
    at 400,000 clients the ORM objects took a gigabyte. ``ids``: only these clients (read in chunks)."""
    query = select(AuditKenmerken.client_id, AuditKenmerken.migratieachtergrond, AuditKenmerken.geboortejaar)
    if ids is None:
        return {row.client_id: row for row in session.exec(query)}
    wanted = np.asarray(ids).tolist()
    return {
        row.client_id: row
        for start in range(0, len(wanted), AUDIT_CHUNK)
        for row in session.exec(query.where(AuditKenmerken.client_id.in_(wanted[start : start + AUDIT_CHUNK])))  # type: ignore[attr-defined]
    }


def protected_bias(audit: Mapping[int, Any], client_ids: np.ndarray, on: date, s: SimulationSettings) -> np.ndarray:
    """Logit penalty employers apply for age and migration background (the discrimination to find).

    ``audit``: per client id a row with ``migratieachtergrond`` and ``geboortejaar`` (an ``AuditKenmerken``
    or a row of :func:`audit_columns`)."""
    bias = np.zeros(len(client_ids), np.float64)
    for row, client_id in enumerate(client_ids.tolist()):
        kenmerken = audit.get(client_id)
        if kenmerken is None:
            continue
        if kenmerken.migratieachtergrond == "niet-westers":
            bias[row] += s.bias_non_western
        if kenmerken.geboortejaar is not None:
            age = on.year - kenmerken.geboortejaar
            bias[row] += s.bias_age_55 if age >= 55 else (s.bias_age_45 if age >= 45 else 0.0)
    return bias


def employer_verdicts(
    true_s: np.ndarray, truly: np.ndarray, bias: np.ndarray, rng: np.random.Generator, settings: SimulationSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Steps 2 and 3 of the story: who is invited, and each candidate's hiring logit."""
    invite = 0.2 + 0.9 * true_s + bias + rng.normal(0, settings.noise, len(true_s))
    invited = np.where(truly, invite, -3.0) > 0
    hire = 0.6 * true_s + 0.5 * bias + rng.normal(0, settings.noise, len(true_s))
    return invited, hire


def counterfactual_labels(
    true_s: np.ndarray, truly: np.ndarray, bias: np.ndarray, rng: np.random.Generator, settings: SimulationSettings
) -> np.ndarray:
    """The final relevance label each candidate *would* have earned had they been proposed.

    The same story as :func:`simulate` (invitation, hiring, placement, six months), judged for every
    candidate on their own: no competition for the vacancy's places, no right-censoring. Labels as
    :data:`matching.outcomes.RELEVANCE`: afgewezen 0, aangenomen or geplaatst but uitgevallen 2,
    duurzaam 4. Only synthetic data has this full information; it lets an evaluation judge a whole
    candidate list rather than the few people a consulent happened to propose.
    """
    invited, hire = employer_verdicts(true_s, truly, bias, rng, settings)
    hired = invited & (hire > 0)
    placed = hired & (rng.random(len(true_s)) < settings.placement_rate)
    lasts = placed & (
        rng.random(len(true_s)) < latent.as_probability(0.8 * true_s + rng.normal(0, settings.noise, len(true_s)))
    )
    return np.where(lasts, 4, np.where(hired, 2, 0)).astype(np.int64)


def _rejection_reason(features: scoring.PairFeatures, row: int, rng: np.random.Generator) -> str:
    """A job-related reason an employer or consulent would record, from what the profile shows."""
    if features.required_total[row] and features.required_matched[row] / features.required_total[row] < 0.5:
        return "vaardigheden"
    if features.experience_years[row] == 0 and rng.random() < 0.6:
        return "vaardigheden"
    return str(
        rng.choice(
            ["motivatie", "vacature_vervuld_door_ander", "niet_beschikbaar", "anders"], p=[0.35, 0.35, 0.15, 0.15]
        )
    )


def _path(
    invited: bool,
    hired: bool,
    true_s: float,
    features: scoring.PairFeatures,
    row: int,
    rng: np.random.Generator,
    settings: SimulationSettings,
) -> list[tuple[str, int, str | None]]:
    """Steps 2-4 of the story for one proposal: (status, days after the previous step, reason)."""
    if not invited:
        return [("afgewezen", int(rng.integers(3, 15)), _rejection_reason(features, row, rng))]
    path: list[tuple[str, int, str | None]] = [("uitgenodigd", int(rng.integers(3, 12)), None)]
    if not hired:
        return [*path, ("afgewezen", int(rng.integers(2, 14)), _rejection_reason(features, row, rng))]
    path.append(("aangenomen", int(rng.integers(2, 14)), None))
    if rng.random() > settings.placement_rate:
        return [*path, ("uitgevallen", int(rng.integers(3, 20)), "past_niet_bij_wensen")]
    path.append(("geplaatst", int(rng.integers(7, 30)), None))
    if rng.random() < latent.as_probability(0.8 * true_s + rng.normal(0, settings.noise)):
        return [*path, ("duurzaam", 185, None)]  # six calendar months after geplaatst
    reason = str(rng.choice(["belastbaarheid", "motivatie", "werkgever_ziet_af", "past_niet_bij_wensen"]))
    return [*path, ("uitgevallen", int(rng.integers(14, 180)), reason)]


def _at(day: date, rng: np.random.Generator) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC) + timedelta(minutes=int(rng.integers(0, 8 * 60)))


def simulate(engine, settings: SimulationSettings = SimulationSettings(), seed: int = 0) -> Iterator[SimulatedProposal]:  # noqa: B008
    """Yield simulated proposals vacancy by vacancy (deterministic for a seed and database)."""
    rng = np.random.default_rng(seed)
    codebook = Codebook.from_taxonomy(load_taxonomy())
    truth = latent.load_client_arrays(engine, codebook)
    vocab = Vocabularies()
    with Session(engine) as session:  # the rows a chunk at a time, clients first (as the matcher reads them)
        observed = _arrays(
            ClientArrays, [ClientArrays.build(rows, vocab) for rows in read_chunks(session, Client)], vocab
        )
        offers = _arrays(
            VacancyArrays, [VacancyArrays.build(rows, vocab) for rows in read_chunks(session, Vacancy)], vocab
        )
        consulent = list(session.exec(select(Client.consulent).order_by(Client.id)))  # type: ignore[arg-type]
        vacancies = session.exec(select(Vacancy.id, Vacancy.aantal_plaatsen).order_by(Vacancy.id)).all()  # type: ignore[arg-type]
        audit = audit_columns(session)
    observed.widen(vocab)
    offers.widen(vocab)
    if not np.array_equal(observed.ids, truth.ids):
        raise ValueError("every client needs synthetic latent factors: simulate only on generated data")
    trede = observed.trede.astype(np.float64)
    start = settings.end - timedelta(days=int(settings.years * 365))
    span = max((settings.end - start).days - 1, 1)
    for v_row, vacancy in enumerate(vacancies[: settings.max_vacancies]):
        if v_row < settings.first_vacancy:  # not drawn for: a history of its own for the seed, not a suffix
            continue
        posted = start + timedelta(days=int(rng.integers(0, span)))
        # only the clients of places within their largest travel reach can pass (at 400,000 clients a few
        # percent): the pairs are computed for those alone, exactly as over everyone (geo.Buckets)
        near = observed.buckets.rows_within(float(offers.lat[v_row]), float(offers.lon[v_row]))
        features = scoring.pair_features(observed, near, offers, np.full(len(near), v_row))
        passing = np.flatnonzero(scoring.eligible(features, np.ones(len(near), bool)))
        if len(passing) == 0:
            continue
        signals = scoring.structured_signals(features, observed.max_km[near])
        obvious = (trede[near] / 5 + signals["occupation"] + signals["competences"] + 0.5 * signals["distance"])[
            passing
        ]
        z = (obvious - obvious.mean()) / (obvious.std() + 1e-9)
        weights = np.exp(settings.afromen * z)
        wanted = max(1, int(round(vacancy.aantal_plaatsen * settings.proposals_per_place + rng.poisson(1.0))))
        chosen = rng.choice(len(passing), size=min(wanted, len(passing)), replace=False, p=weights / weights.sum())
        local = passing[chosen].tolist()  # rows of ``features``
        picked = near[passing[chosen]]

        profile = latent.load_vacancy_profile(engine, vacancy.id, codebook)  # type: ignore[arg-type]
        true_s, truly = latent.evaluate(truth.take(picked), profile)
        bias = protected_bias(audit, observed.ids[picked], posted, settings)
        invited, hire = employer_verdicts(true_s, truly, bias, rng, settings)
        order = np.argsort(-np.where(invited, hire, -np.inf))
        hired = np.zeros(len(picked), bool)
        hired[order[: vacancy.aantal_plaatsen]] = True
        hired &= invited & (hire > 0)
        for i, c_row in enumerate(picked.tolist()):
            day = posted + timedelta(days=int(rng.integers(0, 15)))
            proposal = SimulatedProposal(
                int(observed.ids[c_row]),
                int(vacancy.id),
                consulent[c_row],
                true_suitability=float(true_s[i]),
                obvious=float(z[chosen[i]]),
            )
            proposal.steps.append(Step("voorgesteld", _at(day, rng)))
            path = _path(bool(invited[i]), bool(hired[i]), true_s[i], features, local[i], rng, settings)
            for status, days, reason in path:
                day = day + timedelta(days=days)
                if day >= settings.end:
                    break
                proposal.steps.append(Step(status, _at(day, rng), reason))
            if proposal.steps[0].at.date() < settings.end:
                yield proposal


def _arrays(kind: Any, parts: list[Any], vocab: Vocabularies) -> Any:
    """The chunks' arrays as one (as one build over every row: ``RecordArrays.joined``)."""
    return kind.joined(parts) if len(parts) > 1 else parts[0] if parts else kind.build([], vocab)


def _checked_events(proposal: SimulatedProposal) -> list[dict[str, Any]]:
    """The ``voorstel_event`` rows of one proposal, each step checked against the state machine
    (:data:`matching.outcomes.TRANSITIONS`) and the clock, as :func:`matching.outcomes.transition` checks it."""
    events: list[dict[str, Any]] = []
    previous: Step | None = None
    for step in proposal.steps:
        before = None if previous is None else outcomes.VoorstelStatus(previous.status)
        target = outcomes.VoorstelStatus(step.status)
        allowed = (
            target is outcomes.VoorstelStatus.VOORGESTELD if before is None else target in outcomes.TRANSITIONS[before]
        )
        if not allowed or (previous is not None and step.at < previous.at):
            raise ValueError(f"gesimuleerd voorstel {proposal.client_id}/{proposal.vacancy_id}: stap {step} ongeldig")
        events.append(
            {
                "from_status": None if before is None else before.value,
                "to_status": target.value,
                "reason_code": step.reason,
                "toelichting": "gesimuleerd" if step.reason == "anders" else None,
                "actor": proposal.consulent,
                "at": step.at,
            }
        )
        previous = step
    return events


def _write_batch(connection: Connection, batch: list[SimulatedProposal]) -> None:
    """Store ``batch`` in one transaction: the rows :func:`matching.outcomes.propose` and ``transition``
    write one commit per step (a test compares them), as two multi-row inserts; 40 ms a proposal
    through the ORM would make a national history of millions take days."""
    if not batch:
        return
    events = [_checked_events(proposal) for proposal in batch]
    with connection.begin():
        ids = connection.execute(
            insert(Voorstel).returning(Voorstel.id, sort_by_parameter_order=True),  # type: ignore[arg-type]
            [
                {
                    "client_id": proposal.client_id,
                    "vacancy_id": proposal.vacancy_id,
                    "made_by": proposal.consulent,
                    "made_by_role": outcomes.Rol.CONSULENT.value,
                    "status": proposal.final,
                    "created_at": proposal.steps[0].at,
                    "updated_at": proposal.steps[-1].at,
                }
                for proposal in batch
            ],
        ).scalars()
        connection.execute(
            insert(VoorstelEvent),
            [
                {"voorstel_id": voorstel_id, **event}
                for voorstel_id, rows in zip(ids, events, strict=True)
                for event in rows
            ],
        )


def write_history(engine, proposals: Iterable[SimulatedProposal], progress: bool = False) -> dict[str, Any]:
    """Store simulated proposals, streamed, about :data:`TRANSACTION_PROPOSALS` a transaction (whole
    vacancies in each, so a history stopped at any moment can be resumed after its last vacancy); a summary.

    The rows are those :mod:`matching.outcomes` writes (every step checked against its state machine).

    The summary has counts per final state, invitation and durable-placement rates per protected
    group (what a fairness audit should find again) and how much of the labels the true suitability
    and the consulent's obvious score explain (squared correlation with the relevance label).
    """
    finals: Counter[str] = Counter()
    groups: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    labels, truths, obvious = [], [], []
    with Session(engine) as session:
        audit = audit_columns(session)
    batch: list[SimulatedProposal] = []
    with engine.connect() as connection:
        for proposal in tqdm(proposals, desc="uitkomsten", unit="voorstel", disable=not progress):
            if len(batch) >= TRANSACTION_PROPOSALS and proposal.vacancy_id != batch[-1].vacancy_id:
                _write_batch(connection, batch)  # whole vacancies a transaction: a stop leaves whole vacancies
                batch = []
            batch.append(proposal)
            finals[proposal.final] += 1
            labels.append(outcomes.RELEVANCE[outcomes.VoorstelStatus(proposal.final)])
            truths.append(proposal.true_suitability)
            obvious.append(proposal.obvious)
            kenmerken = audit.get(proposal.client_id)
            invited = any(step.status == "uitgenodigd" for step in proposal.steps)
            lasting = proposal.final == "duurzaam"
            if kenmerken is not None:
                groups[f"migratieachtergrond={kenmerken.migratieachtergrond}"].append((invited, lasting))
        _write_batch(connection, batch)

    def r2(values: list[float]) -> float:
        return round(float(np.corrcoef(values, labels)[0, 1] ** 2), 3) if len(labels) > 2 else 0.0

    return {
        "voorstellen": sum(finals.values()),
        "eindstand": dict(sorted(finals.items())),
        "perGroep": {
            group: {
                "voorstellen": len(rows),
                "uitgenodigd": round(float(np.mean([r[0] for r in rows])), 3),
                "duurzaam": round(float(np.mean([r[1] for r in rows])), 3),
            }
            for group, rows in sorted(groups.items())
        },
        "verklaardeVariantie": {"wareGeschiktheid": r2(truths), "zichtbareScore": r2(obvious)},
    }
