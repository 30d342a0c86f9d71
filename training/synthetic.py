"""Seeded synthetic clients and vacancies for the Arnhem region, with a hidden ground truth.

Real bijstand profiles are special-category data and cannot leave the municipality, so werkmatch is
developed, trained and benchmarked on a synthetic population that looks like the real one: the
clients of W&I Arnhem and the other Scalabor municipalities (Rheden, Rozendaal, Renkum, Overbetuwe,
Lingewaard, Zevenaar, Duiven, Westervoort, Doesburg; Arnhem about 60 % of clients), and the
vacancies of WSP (about 65 %) and Scalabor (about 35 %).

Generative story
----------------
A *client* is drawn in this order; every draw only looks at what was drawn before it.

1. Protected attributes (audit only): geslacht (55 % vrouw), age 18–66 (older-heavy, as in the
   bijstand population), migratieachtergrond (45 % geen, 10 % westers, 45 % niet-westers). A name
   from Faker's nl_NL (pl_PL/de_DE or tr_TR pools for part of the migrants) goes to personalia.
2. Trede (0: 8 %, 1: 17 %, 2: 25 %, 3: 22 %, 4: 16 %, 5: 12 %) and the route that follows from it.
3. Hidden factors (independent of step 1): motivatie, betrouwbaarheid, vermogen, the true
   readiness ``trede_werkelijk`` (see :mod:`training.latent`).
4. True taalniveau (A1–A2 for about 60 % of niet-westerse clients), opleidingsniveau (tilted by
   vermogen), 0–3 occupations of work experience (sector mix of this population: logistiek,
   productie, schoonmaak, retail, horeca …), the true competences (about 75 % of each experienced
   occupation's typical competences, levels from the years, plus 2–5 general skills), the true
   beperkingen (about half of the clients have none; more and heavier at low tredes; physical
   ones more often with age) and the sectors the client truly wants.
5. What the consulent records, through a per-consulent thoroughness: about 70 % of the true
   competences (none at all for ~10 % of clients), sometimes a level off by one; the beperkingen
   except a hidden one that ~12 % of clients have; and incomplete fields (opleidingsniveau
   missing ~20 %, wensen sectoren ~30 %, taalniveau ~10 %).
6. Wishes (occupations, travel, excluded working times, plaatsingsvormen: Scalabor forms for low
   tredes), hours, availability, licences and transport.
7. Free text: a zelfbeschrijving in lay Dutch (often short, sometimes misspelt, sometimes empty)
   and consulent notes in shorthand. Both reveal hidden factors only partly (a motivated client
   *usually* sounds motivated; a hidden beperking is *sometimes* hinted at) and never contain a
   name, gender, age or migration background.

A *vacancy* gets a source (WSP/Scalabor), an occupation from the source's sector mix, an
employer (Faker surnames with sector-fitting names; an employer has one location and a hidden
openness shared by its vacancies), a plaatsingsvorm, jobcoach and jobcarving (mostly Scalabor),
belasting from the occupation (jittered, lowered by Scalabor and by jobcarving), 2–5 required and
1–4 optional competences, certificates, taalniveau, hours and working times, status (~85 % open)
and closing date; and hidden ``openheid``, ``begeleiding_kwaliteit`` and ``werkdruk``, which the
description hints at only sometimes.

What is observable is the validated :class:`~matching.domain.ClientIn` / :class:`VacancyIn`; what
is latent goes to :class:`training.latent.SyntheticLatent`. The true suitability combines both
(weights in :mod:`training.latent`), so a model that reads profiles can approach but never reach it.

The story is told in :mod:`training.population`, one module per part (people, client truth,
clients, vacancies and their texts); this module runs it in chunks and writes the result.

Determinism: records are generated in chunks of :data:`CHUNK` with a random stream per chunk
(``SeedSequence([seed, kind, chunk])``), so a seed gives the same records whatever the batch size
of :func:`iter_batches`. Dates are relative to ``reference_date`` (default a fixed date, so output
does not change from day to day; pass ``date.today()`` for a live demo).

Scale: every record is validated through ``ClientIn``/``VacancyIn`` (the contract), also at scale:
validation is ~80 µs of the ~300 µs a client costs, so an unvalidated path would save little. On
2 cores 100,000 clients take about 30 s and 100,000 vacancies about 25 s. :func:`generate` holds
every record (400,000 + 300,000 need about 12 GB); :func:`write_streaming` generates and writes a
batch of :data:`STREAM_BATCH` records per transaction, so memory stays flat at any size.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from tqdm import tqdm

from matching.domain import (
    AuditKenmerken,
    Client,
    ClientIn,
    ClientPersonalia,
    Vacancy,
    VacancyIn,
    client_from_input,
    utcnow,
    vacancy_from_input,
)
from matching.store import init_db
from matching.taxonomy import Taxonomy
from training.latent import CLIENT, VACANCY, SyntheticLatent
from training.population.clients import client_record
from training.population.context import Context, build_context
from training.population.sampling import CLIENT_STREAM, VACANCY_STREAM, stream
from training.population.vacancies import vacancy_record

logger = logging.getLogger(__name__)

CHUNK = 1000  # records per random stream: the unit of determinism
DEFAULT_REFERENCE_DATE = date(2026, 11, 2)


@dataclass
class SyntheticData:
    """Generated records; the lists of one kind are aligned (``clients[i]`` ↔ ``personalia[i]`` …)."""

    clients: list[ClientIn] = field(default_factory=list)
    personalia: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    client_latent: list[dict[str, Any]] = field(default_factory=list)
    vacancies: list[VacancyIn] = field(default_factory=list)
    vacancy_latent: list[dict[str, Any]] = field(default_factory=list)

    def extend(self, other: SyntheticData) -> None:
        for name in ("clients", "personalia", "audit", "client_latent", "vacancies", "vacancy_latent"):
            getattr(self, name).extend(getattr(other, name))


def _client_chunk(ctx: Context, chunk: int, n_clients: int) -> SyntheticData:
    rnd = stream(ctx.seed, CLIENT_STREAM, chunk)
    data = SyntheticData()
    for index in range(chunk * CHUNK, min((chunk + 1) * CHUNK, n_clients)):
        profile, personalia, audit, latent = client_record(ctx, index, rnd)
        data.clients.append(ClientIn.model_validate(profile))
        data.personalia.append(personalia)
        data.audit.append(audit)
        data.client_latent.append(latent)
    return data


def _vacancy_chunk(ctx: Context, chunk: int, n_vacancies: int) -> SyntheticData:
    rnd = stream(ctx.seed, VACANCY_STREAM, chunk)
    data = SyntheticData()
    for index in range(chunk * CHUNK, min((chunk + 1) * CHUNK, n_vacancies)):
        profile, latent = vacancy_record(ctx, index, rnd)
        data.vacancies.append(VacancyIn.model_validate(profile))
        data.vacancy_latent.append(latent)
    return data


def iter_batches(
    n_clients: int,
    n_vacancies: int,
    seed: int,
    *,
    batch_size: int = 10 * CHUNK,
    reference_date: date = DEFAULT_REFERENCE_DATE,
    taxonomy: Taxonomy | None = None,
    gemeenten: int | None = None,
) -> Iterator[SyntheticData]:
    """Generate in batches (clients first, then vacancies), so scale runs need not hold everything.

    The records are the same as :func:`generate` gives for the same arguments, whatever ``batch_size``.

    Args:
        n_clients: number of clients.
        n_vacancies: number of vacancies.
        seed: the seed; same seed, same records.
        batch_size: records per yielded batch (rounded up to a multiple of :data:`CHUNK`).
        reference_date: "today" for availability and closing dates.
        taxonomy: competences and occupations to draw from (default: ``data/``).
        gemeenten: the region's this many largest gemeenten (default: all ten).

    Yields:
        Batches holding either clients or vacancies.
    """
    ctx = build_context(n_clients, n_vacancies, seed, reference_date, taxonomy, gemeenten)
    chunks_per_batch = max(1, math.ceil(batch_size / CHUNK))
    for total, make in ((n_clients, _client_chunk), (n_vacancies, _vacancy_chunk)):
        n_chunks = math.ceil(total / CHUNK)
        for first in range(0, n_chunks, chunks_per_batch):
            batch = SyntheticData()
            for chunk in range(first, min(first + chunks_per_batch, n_chunks)):
                batch.extend(make(ctx, chunk, total))
            yield batch


def generate(
    n_clients: int,
    n_vacancies: int,
    seed: int,
    *,
    reference_date: date = DEFAULT_REFERENCE_DATE,
    taxonomy: Taxonomy | None = None,
) -> SyntheticData:
    """Generate a synthetic population of clients and vacancies with their hidden truth.

    Args:
        n_clients: number of clients (Arnhem has about 9,000).
        n_vacancies: number of vacancies.
        seed: the seed; the same seed gives identical output.
        reference_date: "today" for availability and closing dates (fixed by default).
        taxonomy: competences and occupations to draw from (default: ``data/``).

    Returns:
        The records, personalia, audit attributes and latent factors.
    """
    start = time.perf_counter()
    data = SyntheticData()
    for batch in iter_batches(
        n_clients,
        n_vacancies,
        seed,
        batch_size=max(n_clients, n_vacancies, 1),
        reference_date=reference_date,
        taxonomy=taxonomy,
    ):
        data.extend(batch)
    logger.info("generated %d clients and %d vacancies in %.1f s", n_clients, n_vacancies, time.perf_counter() - start)
    return data


WRITE_BATCH = 2000  # rows per executemany; also the size of the id look-up (SQLite allows 32,766 parameters)


def _insert_returning_ids(session: Session, model: Any, key: Any, rows: list[dict[str, Any]], bar: tqdm) -> list[int]:
    """Insert rows in batches and return their new ids in row order, looked up by their unique number.

    ``INSERT … RETURNING`` with ordered results is quadratic in SQLAlchemy's SQLite path (9,000 rows
    took 7 s); a plain executemany plus one ``IN`` look-up per batch takes a fraction of that.
    """
    ids: list[int] = []
    for first in range(0, len(rows), WRITE_BATCH):
        batch = rows[first : first + WRITE_BATCH]
        session.execute(insert(model), batch)
        numbers = [row[key.key] for row in batch]
        found = {number: id_ for number, id_ in session.execute(select(key, model.id).where(key.in_(numbers)))}
        ids += [found[number] for number in numbers]
        bar.update(len(batch))
    return ids


def write_to_db(
    engine: Engine, data: SyntheticData, progress: bool = True, *, bar: tqdm | None = None
) -> tuple[int, int]:
    """Insert all generated records, personalia, audit attributes and latent factors in one transaction.

    Bulk inserts (executemany in batches of :data:`WRITE_BATCH`), so 9,000 clients and 3,000
    vacancies take a few seconds. The database must not yet hold the same client or vacancy numbers.

    Args:
        engine: the target database; missing tables are created.
        data: what :func:`generate` or one batch of :func:`iter_batches` returned.
        progress: show a tqdm progress bar.
        bar: a progress bar to advance instead of a new one (:func:`write_streaming`).

    Returns:
        ``(clients written, vacancies written)``.

    Raises:
        ValueError: a client or vacancy number already exists in the database.
    """
    start = time.perf_counter()
    init_db(engine)
    with contextlib.ExitStack() as stack:
        if bar is None:
            total = len(data.clients) + len(data.vacancies)
            bar = stack.enter_context(tqdm(total=total, desc="synthetic → database", unit="rec", disable=not progress))
        session = stack.enter_context(Session(engine))
        try:
            client_ids, vacancy_ids = _insert_all(session, data, bar)
            session.commit()
        except IntegrityError as error:
            session.rollback()
            raise ValueError(
                "synthetische klant- of vacaturenummers bestaan al in deze database; schrijf naar een lege database"
            ) from error
    elapsed = time.perf_counter() - start
    logger.info("wrote %d clients and %d vacancies in %.1f s", len(client_ids), len(vacancy_ids), elapsed)
    return len(client_ids), len(vacancy_ids)


def _insert_all(session: Session, data: SyntheticData, bar: tqdm) -> tuple[list[int], list[int]]:
    """The inserts of :func:`write_to_db`, uncommitted; returns the new client and vacancy ids."""
    now = utcnow()
    client_rows = [{**client_from_input(c), "updated_at": now} for c in data.clients]
    client_ids = _insert_returning_ids(session, Client, Client.client_nummer, client_rows, bar)
    pairs = list(zip(client_ids, data.personalia, data.audit, data.client_latent, strict=True))
    latent_rows = [{"kind": CLIENT, "entity_id": i, "factors": f} for i, _, _, f in pairs]
    if pairs:
        session.execute(insert(ClientPersonalia), [{**p, "client_id": i} for i, p, _, _ in pairs])
        session.execute(insert(AuditKenmerken), [{**a, "client_id": i} for i, _, a, _ in pairs])
    vacancy_rows = [{**vacancy_from_input(v), "updated_at": now} for v in data.vacancies]
    vacancy_ids = _insert_returning_ids(session, Vacancy, Vacancy.vacature_nummer, vacancy_rows, bar)
    latent_rows += [
        {"kind": VACANCY, "entity_id": i, "factors": f} for i, f in zip(vacancy_ids, data.vacancy_latent, strict=True)
    ]
    if latent_rows:
        session.execute(insert(SyntheticLatent), latent_rows)
    return client_ids, vacancy_ids


STREAM_BATCH = 5 * CHUNK  # records generated and written per transaction by write_streaming


def write_streaming(
    engine: Engine,
    n_clients: int,
    n_vacancies: int,
    seed: int,
    *,
    batch_size: int = STREAM_BATCH,
    reference_date: date = DEFAULT_REFERENCE_DATE,
    taxonomy: Taxonomy | None = None,
    progress: bool = True,
    gemeenten: int | None = None,
) -> tuple[int, int]:
    """Generate and write a population batch by batch, one transaction each: memory stays flat.

    The records (and their ids) are those of ``write_to_db(engine, generate(...))`` for the same
    arguments. A run stopped halfway leaves the batches written so far; start again on an empty database.

    Returns:
        ``(clients written, vacancies written)``.
    """
    start = time.perf_counter()
    written = [0, 0]
    batches = iter_batches(
        n_clients,
        n_vacancies,
        seed,
        batch_size=batch_size,
        reference_date=reference_date,
        taxonomy=taxonomy,
        gemeenten=gemeenten,
    )
    bar = tqdm(total=n_clients + n_vacancies, desc="synthetic → database", unit="rec", disable=not progress)
    with bar:
        for batch in batches:
            clients, vacancies = write_to_db(engine, batch, bar=bar)
            written[0] += clients
            written[1] += vacancies
    logger.info("generated and wrote %d clients and %d vacancies in %.1f s", *written, time.perf_counter() - start)
    return written[0], written[1]
