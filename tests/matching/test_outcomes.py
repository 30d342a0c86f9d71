"""Voorstellen and their outcomes on a real SQLite file: state machine, history, relevance labels."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from matching import outcomes, store
from matching.domain import AuditKenmerken
from matching.errors import InvalidInputError, NotFoundError
from matching.outcomes import (
    RELEVANCE,
    TRANSITIONS,
    Voorstel,
    VoorstelStatus,
    history,
    propose,
    relevance_labels,
    transition,
)
from matching.reasons import Reden
from tests.factories import make_client, make_vacancy

S = VoorstelStatus
T0 = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)

# The path to each state, with the reason the final ones need.
PATHS: dict[VoorstelStatus, list[tuple[VoorstelStatus, Reden | None]]] = {
    S.VOORGESTELD: [],
    S.UITGENODIGD: [(S.UITGENODIGD, None)],
    S.AANGENOMEN: [(S.UITGENODIGD, None), (S.AANGENOMEN, None)],
    S.AFGEWEZEN: [(S.UITGENODIGD, None), (S.AFGEWEZEN, Reden.VAARDIGHEDEN)],
    S.GEPLAATST: [(S.UITGENODIGD, None), (S.AANGENOMEN, None), (S.GEPLAATST, None)],
    S.DUURZAAM: [(S.UITGENODIGD, None), (S.AANGENOMEN, None), (S.GEPLAATST, None), (S.DUURZAAM, None)],
    S.UITGEVALLEN: [
        (S.UITGENODIGD, None),
        (S.AANGENOMEN, None),
        (S.GEPLAATST, None),
        (S.UITGEVALLEN, Reden.REISAFSTAND),
    ],
}


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def _step_time(status: VoorstelStatus, start: datetime) -> datetime:
    """Realistic gaps after the proposal; duurzaam 184 days (at least 6 months) after geplaatst."""
    offsets = {S.UITGENODIGD: 7, S.AANGENOMEN: 14, S.AFGEWEZEN: 14, S.GEPLAATST: 30, S.UITGEVALLEN: 60, S.DUURZAAM: 214}
    return start + offsets[status] * DAY


def _voorstel_in(session: Session, status: VoorstelStatus, start: datetime = T0) -> Voorstel:
    client = make_client(session)
    vacancy = make_vacancy(session)
    voorstel = propose(session, client.client_nummer, vacancy.vacature_nummer, "cons-1", "consulent", at=start)
    for to_status, reden in PATHS[status]:
        transition(session, voorstel.id, to_status, "cons-1", reason_code=reden, at=_step_time(to_status, start))
    return voorstel


def _state(engine: Engine, voorstel_id: int) -> tuple[str, list[str]]:
    """Status and event trail as another connection sees them."""
    with Session(engine) as other:
        row = other.get(Voorstel, voorstel_id)
        assert row is not None
        return row.status, [event.to_status for event in history(other, voorstel_id)]


# ---------------------------------------------------------------------------------------- happy path


def test_happy_path_to_duurzaam_writes_the_full_history(engine: Engine, session: Session) -> None:
    client = make_client(session)
    vacancy = make_vacancy(session)
    ref = (client.client_nummer, vacancy.vacature_nummer)
    voorstel = propose(session, *ref, "cons-1", "consulent", model_version="e5-v3", rank=2, at=T0)
    steps = [
        (S.UITGENODIGD, "wg-contact", datetime(2024, 1, 15, 10, tzinfo=UTC)),
        (S.AANGENOMEN, "cons-1", datetime(2024, 1, 22, 14, tzinfo=UTC)),
        (S.GEPLAATST, "cons-1", datetime(2024, 2, 1, 8, tzinfo=UTC)),
        (S.DUURZAAM, "cons-2", datetime(2024, 8, 1, 8, tzinfo=UTC)),
    ]
    for to_status, actor, at in steps:
        transition(session, voorstel.id, to_status, actor, at=at)

    # Read back through a new engine: everything was committed before the calls returned.
    other_engine = store.make_engine(str(engine.url))
    with Session(other_engine) as other:
        stored = other.get(Voorstel, voorstel.id)
        assert stored is not None
        assert (stored.client_id, stored.vacancy_id) == (client.id, vacancy.id)
        assert (stored.made_by, stored.made_by_role, stored.model_version, stored.rank) == (
            "cons-1",
            "consulent",
            "e5-v3",
            2,
        )
        assert stored.status == S.DUURZAAM
        assert stored.created_at == T0 and stored.created_at.tzinfo is not None
        assert stored.updated_at == datetime(2024, 8, 1, 8, tzinfo=UTC)
        trail = [(e.from_status, e.to_status, e.actor, e.at, e.reason_code) for e in history(other, voorstel.id)]
    other_engine.dispose()
    assert trail == [
        (None, S.VOORGESTELD, "cons-1", T0, None),
        (S.VOORGESTELD, S.UITGENODIGD, "wg-contact", steps[0][2], None),
        (S.UITGENODIGD, S.AANGENOMEN, "cons-1", steps[1][2], None),
        (S.AANGENOMEN, S.GEPLAATST, "cons-1", steps[2][2], None),
        (S.GEPLAATST, S.DUURZAAM, "cons-2", steps[3][2], None),
    ]


def test_writes_are_visible_to_another_session_without_a_commit_by_the_caller(engine: Engine) -> None:
    with Session(engine) as writer:
        voorstel = propose(writer, make_client(writer).id, make_vacancy(writer).id, "am-7", "accountmanager")
        transition(writer, voorstel.id, "uitgenodigd", "am-7")
        assert _state(engine, voorstel.id) == ("uitgenodigd", ["voorgesteld", "uitgenodigd"])


def test_rejection_and_drop_out_store_their_reason(session: Session) -> None:
    rejected = _voorstel_in(session, S.AFGEWEZEN)
    dropped = _voorstel_in(session, S.UITGEVALLEN)
    assert history(session, rejected.id)[-1].reason_code == Reden.VAARDIGHEDEN
    assert history(session, dropped.id)[-1].reason_code == Reden.REISAFSTAND

    # A hire can still fall through before the first day; the client can decline straight away.
    hired = _voorstel_in(session, S.AANGENOMEN)
    transition(session, hired.id, S.UITGEVALLEN, "cons-1", reason_code="werkgever_ziet_af", at=T0 + 20 * DAY)
    declined = _voorstel_in(session, S.VOORGESTELD)
    transition(session, declined.id, S.AFGEWEZEN, "cons-1", reason_code=Reden.PAST_NIET_BIJ_WENSEN, at=T0 + DAY)
    assert (hired.status, declined.status) == (S.UITGEVALLEN, S.AFGEWEZEN)


# ---------------------------------------------------------------------------------------- refused transitions


@pytest.mark.parametrize(
    ("current", "target", "because"),
    [
        (S.VOORGESTELD, "aangenomen", "kan pas na 'uitgenodigd'"),
        (S.VOORGESTELD, "geplaatst", "kan pas na 'uitgenodigd'"),
        (S.UITGENODIGD, "duurzaam", "kan pas na 'aangenomen'"),
        (S.AANGENOMEN, "uitgenodigd", "kan niet terug naar 'uitgenodigd'"),
        (S.GEPLAATST, "voorgesteld", "kan niet terug naar 'voorgesteld'"),
        (S.UITGENODIGD, "uitgenodigd", "staat al op 'uitgenodigd'"),
        (S.VOORGESTELD, "verhuisd", "'verhuisd' is geen geldige status"),
        (S.AANGENOMEN, "", "'' is geen geldige status"),
    ],
)
def test_a_refused_step_names_the_current_state_and_the_way_forward(
    engine: Engine, session: Session, current: VoorstelStatus, target: str, because: str
) -> None:
    voorstel = _voorstel_in(session, current)
    before = _state(engine, voorstel.id)

    with pytest.raises(InvalidInputError) as refused:
        transition(session, voorstel.id, target, "cons-1", at=T0 + 300 * DAY)

    message = str(refused.value)
    assert because in message
    assert f"voorstel {voorstel.id} staat " in message and f"op '{current}'" in message
    assert "mogelijke volgende stap: " + ", ".join(TRANSITIONS[current]) in message
    assert _state(engine, voorstel.id) == before


@pytest.mark.parametrize("final", [S.AFGEWEZEN, S.DUURZAAM, S.UITGEVALLEN])
def test_a_final_state_never_changes(engine: Engine, session: Session, final: VoorstelStatus) -> None:
    voorstel = _voorstel_in(session, final)
    before = _state(engine, voorstel.id)
    for target in VoorstelStatus:
        reden = Reden.ANDERS if target in outcomes.REDENEN else None
        with pytest.raises(InvalidInputError, match=f"is afgerond met '{final}'"):
            transition(session, voorstel.id, target, "cons-1", reason_code=reden, toelichting="x", at=T0 + 400 * DAY)
    assert _state(engine, voorstel.id) == before


def test_status_names_are_read_leniently(session: Session) -> None:
    voorstel = _voorstel_in(session, S.VOORGESTELD)
    transition(session, voorstel.id, " Uitgenodigd ", "cons-1", at=T0 + DAY)
    assert voorstel.status == S.UITGENODIGD


def test_unknown_proposal_is_not_found(session: Session) -> None:
    with pytest.raises(NotFoundError, match="voorstel 999 bestaat niet"):
        transition(session, 999, S.UITGENODIGD, "cons-1")


# ---------------------------------------------------------------------------------------- reason codes


@pytest.mark.parametrize("target", [S.AFGEWEZEN, S.UITGEVALLEN])
def test_rejection_and_drop_out_require_a_reason(engine: Engine, session: Session, target: VoorstelStatus) -> None:
    voorstel = _voorstel_in(session, S.UITGENODIGD if target is S.AFGEWEZEN else S.GEPLAATST)
    for missing in (None, "", "  "):
        with pytest.raises(InvalidInputError, match=f"naar '{target}' vraagt een reden; kies uit: .*reisafstand"):
            transition(session, voorstel.id, target, "cons-1", reason_code=missing, at=T0 + 100 * DAY)
    assert _state(engine, voorstel.id)[0] != target


def test_a_reason_is_refused_where_none_fits(session: Session) -> None:
    voorstel = _voorstel_in(session, S.VOORGESTELD)
    with pytest.raises(InvalidInputError, match="'uitgenodigd' krijgt geen reden"):
        transition(session, voorstel.id, S.UITGENODIGD, "cons-1", reason_code=Reden.MOTIVATIE, at=T0 + DAY)


@pytest.mark.parametrize(
    ("current", "target", "code", "because"),
    [
        (S.UITGENODIGD, S.AFGEWEZEN, "gezondheid", "past niet bij 'afgewezen'"),
        (S.GEPLAATST, S.UITGEVALLEN, "contract_niet_verlengd", "past niet bij 'uitgevallen'"),  # retired
        (S.UITGENODIGD, S.AFGEWEZEN, "te_duur", "is geen geldige reden bij 'afgewezen'"),
    ],
)
def test_a_reason_must_fit_the_outcome(
    session: Session, current: VoorstelStatus, target: VoorstelStatus, code: str, because: str
) -> None:
    voorstel = _voorstel_in(session, current)
    with pytest.raises(InvalidInputError, match=because) as refused:
        transition(session, voorstel.id, target, "cons-1", reason_code=code, at=T0 + 100 * DAY)
    for allowed in outcomes.REDENEN[target]:
        assert allowed in str(refused.value)


def test_anders_needs_a_toelichting(session: Session) -> None:
    voorstel = _voorstel_in(session, S.UITGENODIGD)
    with pytest.raises(InvalidInputError, match="'anders' vraagt een toelichting"):
        transition(session, voorstel.id, S.AFGEWEZEN, "cons-1", reason_code="anders", at=T0 + 9 * DAY)
    note = "Werkgever zoekt iemand met eigen gereedschap."
    transition(session, voorstel.id, S.AFGEWEZEN, "cons-1", reason_code="anders", toelichting=note, at=T0 + 9 * DAY)
    assert history(session, voorstel.id)[-1].toelichting == note


def test_toelichting_is_limited_to_500_characters(session: Session) -> None:
    voorstel = _voorstel_in(session, S.VOORGESTELD)
    with pytest.raises(InvalidInputError, match="toelichting mag hoogstens 500 tekens bevatten, niet 501"):
        transition(session, voorstel.id, S.UITGENODIGD, "cons-1", toelichting="x" * 501, at=T0 + DAY)


# Grounds of the Dutch equal-treatment laws (AWGB, WGBL, WGB) and what a name or photo reveals,
# as single words a reason code could be made of.
PROTECTED_WORDS = {
    "geslacht", "gender", "man", "vrouw", "transgender", "leeftijd", "age", "oud", "jong", "geboortejaar",
    "afkomst", "herkomst", "origin", "migratie", "migratieachtergrond", "etniciteit", "ras", "huidskleur",
    "nationaliteit", "religie", "religion", "godsdienst", "geloof", "levensovertuiging", "hoofddoek", "naam",
    "name", "achternaam", "zwanger", "zwangerschap", "pregnancy", "seksuele", "gerichtheid", "burgerlijke",
    "staat", "getrouwd", "politieke", "gezindheid", "uiterlijk", "foto", "accent",
}  # fmt: skip


def test_no_reason_code_names_a_protected_attribute(session: Session) -> None:
    audit_columns = set(AuditKenmerken.model_fields) - {"client_id"}
    for reden in Reden:
        words = set(reden.value.split("_")) | set(reden.name.lower().split("_"))
        assert not words & PROTECTED_WORDS, reden
        assert reden.value not in audit_columns, reden

    # And such a reason cannot be recorded by typing it in either.
    voorstel = _voorstel_in(session, S.UITGENODIGD)
    for code in ("leeftijd", "geslacht", "migratieachtergrond", "zwangerschap"):
        with pytest.raises(InvalidInputError, match=f"'{code}' is geen geldige reden"):
            transition(session, voorstel.id, S.AFGEWEZEN, "cons-1", reason_code=code, at=T0 + 9 * DAY)


# ---------------------------------------------------------------------------------------- duplicates


def test_one_open_proposal_per_pair(engine: Engine, session: Session) -> None:
    client = make_client(session)
    vacancy = make_vacancy(session)
    first = propose(session, client.client_nummer, vacancy.vacature_nummer, "cons-1", "consulent", at=T0)

    # Also when the accountmanager proposes the same pair by database id.
    with pytest.raises(InvalidInputError, match=f"al voorgesteld .*voorstel {first.id}, status 'voorgesteld'"):
        propose(session, client.id, vacancy.id, "am-7", "accountmanager", at=T0 + DAY)
    transition(session, first.id, S.UITGENODIGD, "cons-1", at=T0 + DAY)
    with pytest.raises(InvalidInputError, match="status 'uitgenodigd'"):
        propose(session, client.id, vacancy.id, "am-7", "accountmanager", at=T0 + 2 * DAY)

    # The same client for another vacancy is a different pair; once the first ends, a new one may start.
    propose(session, client.id, make_vacancy(session).id, "cons-1", "consulent", at=T0 + 2 * DAY)
    transition(session, first.id, S.AFGEWEZEN, "cons-1", reason_code="vacature_vervuld_door_ander", at=T0 + 3 * DAY)
    second = propose(session, client.id, vacancy.id, "am-7", "accountmanager", at=T0 + 30 * DAY)
    assert second.id != first.id
    with Session(engine) as other:
        count = len(other.exec(select(Voorstel).where(Voorstel.client_id == client.id)).all())
    assert count == 3


def test_the_database_itself_refuses_a_second_open_proposal(session: Session) -> None:
    """What stops two users who propose the same pair at the same moment."""
    voorstel = _voorstel_in(session, S.VOORGESTELD)
    session.add(Voorstel(client_id=voorstel.client_id, vacancy_id=voorstel.vacancy_id, made_by="x", made_by_role="x"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_a_change_made_meanwhile_by_someone_else_is_not_overwritten(
    engine: Engine, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    voorstel = _voorstel_in(session, S.UITGENODIGD)
    clean_actor = outcomes._clean_actor

    def colleague_acts_first(actor: str) -> str:
        monkeypatch.setattr(outcomes, "_clean_actor", clean_actor)
        with Session(engine) as colleague:
            transition(colleague, voorstel.id, S.AANGENOMEN, "cons-2", at=T0 + 10 * DAY)
        return clean_actor(actor)

    monkeypatch.setattr(outcomes, "_clean_actor", colleague_acts_first)
    with pytest.raises(InvalidInputError, match="intussen door iemand anders gewijzigd"):
        transition(session, voorstel.id, S.AFGEWEZEN, "cons-1", reason_code="motivatie", at=T0 + 11 * DAY)
    assert _state(engine, voorstel.id) == ("aangenomen", ["voorgesteld", "uitgenodigd", "aangenomen"])


def test_a_stale_copy_in_the_session_does_not_decide(engine: Engine, session: Session) -> None:
    voorstel = _voorstel_in(session, S.VOORGESTELD)
    with Session(engine) as colleague:
        transition(colleague, voorstel.id, S.UITGENODIGD, "cons-2", at=T0 + DAY)
    assert voorstel.status == S.VOORGESTELD  # the copy held by our session is now stale
    transition(session, voorstel.id, S.AANGENOMEN, "cons-1", at=T0 + 2 * DAY)
    assert _state(engine, voorstel.id)[1] == ["voorgesteld", "uitgenodigd", "aangenomen"]


# ---------------------------------------------------------------------------------------- proposing


def test_propose_refuses_bad_references_and_arguments(session: Session) -> None:
    client = make_client(session)
    vacancy = make_vacancy(session)
    with pytest.raises(NotFoundError, match="klant 'K-BESTAATNIET' bestaat niet"):
        propose(session, "K-BESTAATNIET", vacancy.id, "cons-1", "consulent")
    with pytest.raises(NotFoundError, match="vacature '99999' bestaat niet"):
        propose(session, client.id, 99999, "cons-1", "consulent")
    with pytest.raises(InvalidInputError, match="'jobcoach' is geen geldige rol; kies uit: consulent, accountmanager"):
        propose(session, client.id, vacancy.id, "cons-1", "jobcoach")
    with pytest.raises(InvalidInputError, match="gebruiker ontbreekt"):
        propose(session, client.id, vacancy.id, " ", "consulent")
    with pytest.raises(InvalidInputError, match="rang 0 is ongeldig"):
        propose(session, client.id, vacancy.id, "cons-1", "consulent", rank=0)
    assert session.exec(select(Voorstel)).all() == []


def test_a_closed_vacancy_takes_no_new_proposal_but_history_may_be_written(session: Session) -> None:
    client = make_client(session)
    vacancy = make_vacancy(session, status="vervuld")
    with pytest.raises(InvalidInputError, match=f"vacature '{vacancy.vacature_nummer}' is vervuld"):
        propose(session, client.id, vacancy.id, "cons-1", "consulent")
    # The outcome simulator records what happened while it was still open.
    voorstel = propose(session, client.id, vacancy.id, "cons-1", "consulent", at=T0)
    assert voorstel.status == S.VOORGESTELD


# ---------------------------------------------------------------------------------------- time order


def test_events_must_be_in_time_order(engine: Engine, session: Session) -> None:
    voorstel = _voorstel_in(session, S.UITGENODIGD)  # uitgenodigd at T0 + 7 days
    with pytest.raises(InvalidInputError, match="vóór de laatste stap .*'uitgenodigd' op 2024-01-15 09:00 UTC"):
        transition(session, voorstel.id, S.AANGENOMEN, "cons-1", at=T0 + 6 * DAY)
    transition(session, voorstel.id, S.AANGENOMEN, "cons-1", at=T0 + 7 * DAY)  # the same moment is in order
    times = [event.at for event in history(session, voorstel.id)]
    assert times == sorted(times)
    assert _state(engine, voorstel.id)[0] == "aangenomen"


def test_times_need_a_time_zone_and_may_not_lie_ahead(session: Session) -> None:
    voorstel = _voorstel_in(session, S.VOORGESTELD)
    with pytest.raises(InvalidInputError, match="heeft geen tijdzone"):
        transition(session, voorstel.id, S.UITGENODIGD, "cons-1", at=datetime(2024, 2, 1, 9, 0))
    with pytest.raises(InvalidInputError, match="ligt in de toekomst"):
        transition(session, voorstel.id, S.UITGENODIGD, "cons-1", at=datetime.now(UTC) + 2 * DAY)
    # Another zone is fine and stored as the same moment in UTC.
    amsterdam = datetime(2024, 2, 1, 10, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Amsterdam"))
    transition(session, voorstel.id, S.UITGENODIGD, "cons-1", at=amsterdam)
    assert history(session, voorstel.id)[-1].at == datetime(2024, 2, 1, 10, 0, tzinfo=UTC)


def test_without_a_time_the_step_happens_now(session: Session) -> None:
    before = datetime.now(UTC)
    voorstel = _voorstel_in(session, S.VOORGESTELD)
    transition(session, voorstel.id, S.UITGENODIGD, "cons-1")
    assert before <= history(session, voorstel.id)[-1].at <= datetime.now(UTC)


def test_duurzaam_only_six_months_after_placement(session: Session) -> None:
    voorstel = _voorstel_in(session, S.GEPLAATST)  # geplaatst 2024-02-07 09:00
    with pytest.raises(InvalidInputError, match="'duurzaam' kan pas vanaf 2024-08-07 09:00 UTC"):
        transition(session, voorstel.id, S.DUURZAAM, "cons-1", at=datetime(2024, 8, 7, 8, 59, tzinfo=UTC))
    transition(session, voorstel.id, S.DUURZAAM, "cons-1", at=datetime(2024, 8, 7, 9, 0, tzinfo=UTC))
    assert voorstel.status == S.DUURZAAM


# ---------------------------------------------------------------------------------------- relevance labels


def test_relevance_labels_grade_how_far_each_pair_got(session: Session) -> None:
    expected = {}
    for status in VoorstelStatus:
        voorstel = _voorstel_in(session, status)
        expected[(voorstel.client_id, voorstel.vacancy_id)] = (RELEVANCE[status], voorstel.updated_at)

    labels = relevance_labels(session)

    assert {(row.client_id, row.vacancy_id): (row.label, row.decided_at) for row in labels} == expected
    by_status = {status: RELEVANCE[status] for status in VoorstelStatus}
    assert by_status[S.AFGEWEZEN] < by_status[S.VOORGESTELD] < by_status[S.AANGENOMEN] < by_status[S.GEPLAATST]
    assert by_status[S.GEPLAATST] < by_status[S.DUURZAAM] == max(by_status.values())
    assert by_status[S.AFGEWEZEN] < by_status[S.UITGEVALLEN] < by_status[S.GEPLAATST]
    assert [row.decided_at for row in labels] == sorted(row.decided_at for row in labels)


def test_a_pair_proposed_again_keeps_its_latest_outcome(session: Session) -> None:
    voorstel = _voorstel_in(session, S.AFGEWEZEN)  # afgewezen at T0 + 14 days
    again = propose(session, voorstel.client_id, voorstel.vacancy_id, "cons-1", "consulent", at=T0 + 60 * DAY)
    for to_status, at in [(S.UITGENODIGD, 61), (S.AANGENOMEN, 62), (S.GEPLAATST, 70)]:
        transition(session, again.id, to_status, "cons-1", at=T0 + at * DAY)

    assert relevance_labels(session) == [(voorstel.client_id, voorstel.vacancy_id, 3, T0 + 70 * DAY)]


def test_relevance_labels_since_a_moment(session: Session) -> None:
    early = _voorstel_in(session, S.AFGEWEZEN, start=T0)  # decided T0 + 14 days
    late = _voorstel_in(session, S.AFGEWEZEN, start=T0 + 100 * DAY)  # decided T0 + 114 days

    assert [row.client_id for row in relevance_labels(session, since=T0 + 114 * DAY)] == [late.client_id]
    assert [row.client_id for row in relevance_labels(session, since=T0)] == [early.client_id, late.client_id]
    assert relevance_labels(session, since=T0 + 115 * DAY) == []
    with pytest.raises(InvalidInputError, match="since .* heeft geen tijdzone"):
        relevance_labels(session, since=datetime(2024, 1, 1))


def test_init_db_alone_creates_the_voorstel_tables(tmp_path: Path) -> None:
    """A process that only uses the store (as the CLI does) gets the tables too."""
    script = (
        "import sqlite3, sys; from matching.store import init_db, make_engine; "
        "init_db(make_engine('sqlite:///' + sys.argv[1])); "
        'print(sorted(r[0] for r in sqlite3.connect(sys.argv[1]).execute("select name from sqlite_master")))'
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "alone.db")], capture_output=True, text=True, check=True
    )
    assert "'voorstel'" in result.stdout and "'voorstel_event'" in result.stdout
