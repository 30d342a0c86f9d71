"""Property-based fuzzing of the published OpenAPI document with schemathesis, in-process.

For every operation in ``/api/v1/openapi.json`` schemathesis generates requests from the documented
parameters and bodies (valid ones and, in its negative phases, invalid ones), sends them to the app
through ASGI and runs its default checks on every answer: no 5xx, the status code is documented, the
content type is the documented one (``application/problem+json`` for errors), the documented
headers are present and the body conforms to the documented schema.

The app runs on a small real database (four clients, two vacancies, a voorstel, pushed inbox items
and a saved search, so that small generated ids exist), so an example costs milliseconds. Every
request carries the bearer token of a user whose role the route admits (:data:`FUZZ_AS`), so the
generated input reaches the route rather than stopping at 401/403. The rate limit is raised so that
429 does not mask what the routes answer (the limiter has its own tests in ``test_ops.py``).

:func:`test_the_voorstel_workflow_holds_statefully` runs schemathesis' state machine over the
voorstel operations on an app of its own (:func:`workflow_http`: its own data directory, vacancies and
werkconsulent account, so that nothing the stateless fuzzing did (revoked tokens, closed vacancies,
moved voorstellen) changes what it meets). Every scenario starts with ``POST /voorstellen`` for a klant
of its own; the voorstel it answers with is read and moved through its steps by the operations its
OpenAPI links lead to (:data:`VOORSTEL_LINKS`, added to the test's copy of the document).

The parametrisation needs the document at collection time (``schemathesis.pytest.from_fixture``
fails on pytest 9.2: it sets ``node._nodeid``), so :data:`DOCUMENT` is built from the routes of an
app that is never started (no database, no lifespan); the fixture checks that the running app
serves exactly that document.
"""

from __future__ import annotations

import copy
import itertools
import logging
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, initialize, precondition, rule
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import TestPhase
from schemathesis.generation.stateful.state_machine import StepInput, StepOutput
from sqlmodel import Session, col, func, select
from starlette.types import Receive, Scope, Send

from api.app import create_app
from api.services.users import Rol, create_user
from matching.domain import Client
from matching.outcomes import Voorstel, VoorstelEvent
from matching.settings import AuthSettings, OpsSettings, Settings
from tests.factories import app_settings, login, logins, make_client, make_vacancy, running_app

pytestmark = pytest.mark.slow  # schemathesis over every operation and the stateful workflow: ≈ 6 min on 2 cores

log = logging.getLogger(__name__)

EXAMPLES_PER_OPERATION = 500  # issue 15: at least 500 per operation
STATEFUL_SCENARIOS = 200  # voorstel workflows of up to STATEFUL_STEPS calls each
STATEFUL_STEPS = 12
DOCUMENT_PATH = "/api/v1/openapi.json"
USERS = ("consulent1", "accountmanager", "datascientist", "beheerder")

# Who fuzzes each operation: a user whose role the route admits (see the docstrings of api.app and
# api.routes.*). The rest are werkconsulent routes: consulent1 (caseload wc-a). A new operation that
# another role must reach needs a row here, or it is fuzzed as consulent1 and only meets its 403.
FUZZ_AS: dict[tuple[str, str], str | None] = {
    ("POST", "/token"): None,  # the login itself takes no token
    ("GET", "/health"): None,
    ("GET", "/gereedheid"): None,
    ("POST", "/modellen/herladen"): "datascientist",
    ("POST", "/audit/zoeken"): "beheerder",
    ("GET", "/audit/controle"): "beheerder",
    ("POST", "/zoekopdrachten/uitvoeren"): "beheerder",
    ("GET", "/rapportages/afwijkingen"): "beheerder",
    ("POST", "/vacatures"): "accountmanager",
    ("GET", "/vacatures"): "accountmanager",
    ("GET", "/vacatures/{vacaturenummer}"): "accountmanager",
    ("PUT", "/vacatures/{vacaturenummer}"): "accountmanager",
    ("POST", "/vacatures/import"): "accountmanager",
    ("POST", "/vacatures/{vacaturenummer}/push"): "accountmanager",
    ("GET", "/pushes"): "accountmanager",
    ("GET", "/modellen"): "datascientist",
    ("POST", "/modellen/promoveren"): "datascientist",
    ("GET", "/modellen/trainingsdata"): "datascientist",
    ("GET", "/gebruikers"): "beheerder",
    ("POST", "/gebruikers"): "beheerder",
    ("GET", "/gebruikers/{gebruikersnaam}"): "beheerder",
    ("PATCH", "/gebruikers/{gebruikersnaam}"): "beheerder",
    ("POST", "/token/intrekken"): None,  # as consulent1 it would revoke consulent1's token for the rest of the run
    ("GET", "/caseloadtoekenningen"): "beheerder",
    ("POST", "/caseloadtoekenningen/{toekenning_id}/goedkeuren"): "beheerder",
    ("POST", "/caseloadtoekenningen/{toekenning_id}/afwijzen"): "beheerder",
    ("GET", "/modellen/{versie}/modelkaart"): "datascientist",
    ("GET", "/modellen/{versie}/fairness"): "beheerder",
    ("GET", "/instellingen/rangschikking"): "beheerder",
    ("PUT", "/instellingen/rangschikking"): "beheerder",
}
DEFAULT_USER = "consulent1"

# Every default check runs (no 5xx; documented status code, content type, headers and body; 405 with
# a true Allow header for undocumented methods) except these two, which judge input validation
# rather than the answers: that a schema-valid request is never refused and a schema-violating one
# never accepted. The API refuses schema-valid requests on purpose, with a documented 400 problem,
# when a rule depends on the stored state or on several fields (a voorstel step that must wait for
# the previous one, a reden code that must fit the item, an import file's contents, a klantnummer's
# characters), and pydantic's lax mode takes JSON ``false`` for an integer 0.
NOT_ABOUT_ANSWERS = [positive_data_acceptance, negative_data_rejection]

DOCUMENT = create_app(Settings()).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)

# A voorstel made or moved answers with its id: that id is the next step's voorstel_id.
_VOORSTEL_ID = {"voorstel_id": "$response.body#/id"}
VOORSTEL_LINKS = {
    "VoorstelLezen": {"operationId": "read_voorstel_api_v1_voorstellen__voorstel_id__get", "parameters": _VOORSTEL_ID},
    "VoorstelVerder": {
        "operationId": "move_voorstel_api_v1_voorstellen__voorstel_id__overgangen_post",
        "parameters": _VOORSTEL_ID,
    },
    # The first step the answer offers (volgendeStappen: the one onwards, uitgenodigd ... duurzaam), merged
    # into an otherwise generated body: with a generated "naar" a voorstel rarely gets past its first step.
    "VoorstelVolgendeStap": {
        "operationId": "move_voorstel_api_v1_voorstellen__voorstel_id__overgangen_post",
        "parameters": _VOORSTEL_ID,
        "requestBody": {"naar": "$response.body#/volgendeStappen/0"},
    },
}
# The workflow app's own account and vacancies; a generated voorstel names one of them and the scenario's own klant.
WORKFLOW_USER = ("fuzz-workflow", "fuzz-workflow-wachtwoord")
WORKFLOW_CASELOAD = "wc-w"
FINISHED_CASELOAD = "wc-klaar"  # where a finished scenario's klant goes
VACANCIES = ("WSP-0000001", "SCA-0000001")


def linked_document() -> dict[str, Any]:
    """A copy of :data:`DOCUMENT` with :data:`VOORSTEL_LINKS` on the answers that return a voorstel."""
    document = copy.deepcopy(DOCUMENT)
    paths = document["paths"]
    for path, status in (("/voorstellen", "201"), ("/voorstellen/{voorstel_id}/overgangen", "200")):
        paths[path]["post"]["responses"][status]["links"] = copy.deepcopy(VOORSTEL_LINKS)
    # A voorstel read is moved on from the state it is in now (after a refused step, the only answer
    # that tells where a voorstel stands).
    paths["/voorstellen/{voorstel_id}"]["get"]["responses"]["200"]["links"] = {
        name: copy.deepcopy(link) for name, link in VOORSTEL_LINKS.items() if name != "VoorstelLezen"
    }
    return document


class WithoutLifespan:
    """The app as schemathesis sees it: requests only; the fixture's TestClient runs (and ends) the lifespan.

    schemathesis starts the lifespan of an ASGI app itself and keeps it until the process exits; a
    second start would run the app's startup twice. Refusing the lifespan scope before reading a
    message is how an ASGI app says it has none.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("the lifespan is run by the test fixture")
        await self.app(scope, receive, send)


@contextmanager
def started_app(data_dir: Path, embedder: Any, populate: Any) -> Iterator[TestClient]:
    """The app started on a fresh database in ``data_dir`` that ``populate(session)`` filled, everything embedded."""
    settings_ = app_settings(
        data_dir,
        ops=OpsSettings(rate_per_minute=1e9, rate_burst=1_000_000_000, access_log=False),
        # Fuzzing POST /token fails hundreds of logins from one address; later logins must still work.
        auth=AuthSettings(login_failures_per_account=10**9, login_failures_per_address=10**9),
    )
    with running_app(settings_, embedder, populate) as client:
        assert client.get(DOCUMENT_PATH).json() == DOCUMENT
        yield client


def _fuzz_records(session: Session) -> None:
    # consulent1 gets wc-a: the code with the most clients
    make_client(session, client_nummer="K0000001", consulent="wc-a", beperkingen=[{"aspect": "tillen", "ernst": 2}])
    make_client(session, client_nummer="K0000002", consulent="wc-a")
    make_client(session, client_nummer="K0000003", consulent="wc-a", opleidingsniveau=None, wensen={})
    make_client(session, client_nummer="K0000004", consulent="wc-b")
    make_vacancy(session, vacature_nummer="WSP-0000001")
    make_vacancy(session, vacature_nummer="SCA-0000001", bron="Scalabor", plaatsingsvorm="beschut_werk")


@pytest.fixture(scope="module")
def fuzz_http(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[TestClient]:
    """The app started on a small real database, everything embedded."""
    with started_app(tmp_path_factory.mktemp("fuzz") / "var", embedder, _fuzz_records) as client:
        yield client


@pytest.fixture(scope="module")
def fuzz_tokens(fuzz_http: TestClient) -> dict[str, dict[str, str]]:
    """Authorization headers per demo user; also makes the records that small generated ids point at."""
    tokens = logins(fuzz_http, *USERS)
    for path, body, user, status in [
        ("/api/v1/voorstellen", {"klantId": "K0000001", "vacatureId": "WSP-0000001"}, "consulent1", 201),
        ("/api/v1/vacatures/SCA-0000001/push", {"aantal": 3}, "accountmanager", 200),
        ("/api/v1/zoekopdrachten", {"klantId": "K0000002"}, "consulent1", 201),
    ]:
        response = fuzz_http.post(path, json=body, headers=tokens[user])
        assert response.status_code == status, response.text
    return tokens


@pytest.fixture(scope="module")
def fuzz_app(fuzz_http: TestClient) -> WithoutLifespan:
    """The running app, for schemathesis."""
    return WithoutLifespan(fuzz_http.app)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
def test_every_operation_answers_as_documented(
    case: Any, fuzz_app: WithoutLifespan, fuzz_tokens: dict[str, dict[str, str]]
) -> None:
    """Generated requests never get a 5xx, nor an answer that the document does not describe."""
    user = FUZZ_AS.get((case.operation.method.upper(), case.operation.path), DEFAULT_USER)
    case.call_and_validate(app=fuzz_app, headers=fuzz_tokens[user] if user else None, excluded_checks=NOT_ABOUT_ANSWERS)


def _workflow_records(session: Session) -> None:
    make_vacancy(session, vacature_nummer=VACANCIES[0])
    make_vacancy(session, vacature_nummer=VACANCIES[1], bron="Scalabor", plaatsingsvorm="beschut_werk")
    create_user(session, *WORKFLOW_USER, Rol.WERKCONSULENT, consulent=WORKFLOW_CASELOAD)


@pytest.fixture
def workflow_http(tmp_path: Path, embedder) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """An app of its own for the state machine and the werkconsulent's header; nothing else calls it."""
    with started_app(tmp_path / "var", embedder, _workflow_records) as client:
        yield client, login(client, *WORKFLOW_USER)


def test_the_voorstel_workflow_holds_statefully(workflow_http: tuple[TestClient, dict[str, str]]) -> None:
    """Sequences of voorstel calls linked by the ids they return: every answer as documented, never a 5xx.

    schemathesis (4.32) would not start a scenario with ``POST /voorstellen`` by itself: it infers from
    the body's ``klantId``/``vacatureId`` that the operation needs a Klant and a Vacature that no included
    operation makes, and then starts only from ``POST /voorstellen/{voorstel_id}/overgangen`` with random
    ids (all 404). So the machine gets the create as a rule of its own (:func:`initialize`: every
    scenario opens with one; a second may follow), run and recorded like schemathesis' own steps, so
    that its 201 answers feed the links to ``GET /voorstellen/{id}`` and ``POST .../overgangen``.

    Each scenario has a klant of its own in the account's caseload: a second voorstel for the same pair
    is refused, so with shared klanten a replayed scenario would take another path (Hypothesis calls
    that flaky, rightly). For the same reason the klant leaves the caseload when its scenario ends:
    later scenarios cannot read or move its voorstellen (404, like any voorstel of another caseload).
    """
    http, headers = workflow_http
    app = WithoutLifespan(http.app)
    engine = http.app.state.matcher.engine
    voorstel_schema = schemathesis.openapi.from_dict(linked_document()).include(path_regex="^/voorstellen")
    machine = voorstel_schema.as_state_machine()
    create = voorstel_schema["/voorstellen"]["POST"]
    documented = {
        (operation.method.upper(), operation.path): {int(code) for code in operation.responses.status_codes}
        for operation in (result.ok() for result in voorstel_schema.get_all_operations())
    }
    scenarios = itertools.count(1)
    answers: Counter[tuple[str, str, int]] = Counter()  # (method, path, status) -> how often
    own: Counter[tuple[str, int]] = Counter()  # (method, status) -> how often, for calls on the scenario's voorstellen
    steps = Bundle("catch_all")  # where schemathesis' rules put their outputs; it files them by status code

    def creating(mode: GenerationMode) -> st.SearchStrategy[StepInput]:
        return create.as_strategy(generation_mode=mode, phase=TestPhase.STATEFUL).map(StepInput.initial)

    class VoorstelWorkflow(machine):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            self.made: set[int] = set()  # the voorstellen this scenario made
            self.creates = 0
            with Session(engine) as session:
                self.klant = make_client(
                    session, client_nummer=f"K9{next(scenarios):06d}", consulent=WORKFLOW_CASELOAD
                ).client_nummer

        def teardown(self) -> None:
            # The scenario's klant leaves the caseload: a later scenario that generates the id of one of
            # its voorstellen meets the 404 of another caseload's voorstel, not a state this one left.
            with Session(engine) as session:
                klant = session.exec(select(Client).where(Client.client_nummer == self.klant)).one()
                klant.consulent = FINISHED_CASELOAD
                session.add(klant)
                session.commit()
            super().teardown()

        def _create(self, input: StepInput) -> StepOutput:
            # What schemathesis' own root rules do: record the case (its 201 answer is the parent of
            # the linked steps) and run it through before_call, call, after_call and validate_response.
            self.creates += 1
            self.recorder.record_case(case=input.case)
            self.control.record_step(input, self.recorder)
            return self._step(input)

        @initialize(target=steps, input=creating(GenerationMode.POSITIVE))
        def make_voorstel(self, input: StepInput) -> StepOutput:
            return self._create(input)

        @precondition(lambda self: self.creates < 2)
        @rule(target=steps, input=st.one_of(creating(GenerationMode.POSITIVE), creating(GenerationMode.NEGATIVE)))
        def make_another_voorstel(self, input: StepInput) -> StepOutput:
            return self._create(input)

        def before_call(self, case: Any) -> None:
            # A generated klantId/vacatureId almost never exists: a valid body names the scenario's klant
            # and a vacancy picked from the generated body, so the pairs vary (the other fields stay
            # generated). A negative body is sent as generated.
            positive = case.meta is None or case.meta.generation.mode is GenerationMode.POSITIVE
            if case.operation.path == "/voorstellen" and positive and isinstance(case.body, dict):
                # Picked from the body as generated, before the scenario's klant is in it: a replay in
                # another scenario (another klant) must pick the same vacancy.
                pick = zlib.crc32(repr(sorted(case.body.items(), key=str)).encode())
                case.body["klantId"] = self.klant
                case.body["vacatureId"] = VACANCIES[pick % len(VACANCIES)]

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"app": app, "headers": headers}

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)  # the recorder: the stateful checks look up earlier steps
            answers[case.operation.method.upper(), case.operation.path, response.status_code] += 1
            if str((case.path_parameters or {}).get("voorstel_id")) in {str(made) for made in self.made}:
                own[case.operation.method.upper(), response.status_code] += 1  # (a link gives the id as a string)
            if case.operation.path == "/voorstellen" and response.status_code == 201:
                self.made.add(response.json()["id"])

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            case.validate_response(
                response, excluded_checks=NOT_ABOUT_ANSWERS, transport_kwargs=kwargs, recorder=self.recorder
            )

    VoorstelWorkflow.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            phases=[Phase.generate],  # as schemathesis runs its state machines; a failure is reported unshrunk
            suppress_health_check=list(HealthCheck),
            database=None,
        )
    )
    with Session(engine) as session:
        made = session.exec(
            select(func.count()).select_from(Voorstel).where(Voorstel.made_by == WORKFLOW_USER[0])
        ).one()
        reached = dict(
            session.exec(
                select(VoorstelEvent.to_status, func.count())
                .where(col(VoorstelEvent.from_status).is_not(None))
                .group_by(VoorstelEvent.to_status)
            ).all()
        )
    log.info("stateful answers: %s; on own voorstellen: %s", dict(sorted(answers.items())), dict(sorted(own.items())))
    log.info("voorstellen made: %d; steps taken, by the state reached: %s", made, reached)
    # Every answer was one the document gives for its operation, and none a 5xx (the checks say so too).
    assert all(status < 500 and status in documented[method, path] for method, path, status in answers), answers
    # The links were followed: voorstellen were made, and read and moved on by the id they answered with.
    assert answers.get(("POST", "/voorstellen", 201), 0) > 0, answers
    assert own.get(("GET", 200), 0) > 0, own
    assert own.get(("POST", 200), 0) > 0, own
    # ... and the database agrees: the account's voorstellen exist, and every step answered 200 was taken.
    assert made == answers[("POST", "/voorstellen", 201)], (made, answers)
    assert sum(reached.values()) == answers[("POST", "/voorstellen/{voorstel_id}/overgangen", 200)], (reached, answers)
    # Linked steps in a row (the VoorstelVolgendeStap link): past uitgenodigd and aangenomen to geplaatst,
    # where the nazorg is planned.
    assert {"uitgenodigd", "aangenomen", "geplaatst"} <= reached.keys(), reached
