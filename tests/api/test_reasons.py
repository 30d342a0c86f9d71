"""One list of reason codes (matching.reasons) for every decline and every ending, and never a health reason in it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.app import create_app
from api.services import inbox, schema, voorstellen
from api.services.werkproces import Actor
from api.web import caseload, shortlist
from matching import outcomes, reasons
from matching.errors import InvalidInputError
from matching.outcomes import VoorstelEvent, VoorstelStatus, history, propose, transition
from matching.settings import Settings
from matching.store import make_engine
from tests.factories import make_client, make_vacancy
from tests.oracles import health_words

T0 = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "web" / "templates"


def labelled(codes: Iterable[str]) -> list[tuple[str, str]]:
    return [(code, reasons.label(code)) for code in codes]


def offered_lists() -> dict[str, list[tuple[str, str]]]:
    """Every list a person chooses a reason from, as (code, label): the API's checks and the web's forms."""
    return {
        "de ene lijst": reasons.choices(reasons.REDENEN),
        "voorstel afgewezen": labelled(sorted(outcomes.REDENEN[VoorstelStatus.AFGEWEZEN])),
        "voorstel uitgevallen": labelled(sorted(outcomes.REDENEN[VoorstelStatus.UITGEVALLEN])),
        "web: kandidaatkaart": list(shortlist.AFWIJS_LABELS.items()),
        "web: inbox en voorstellen": labelled(caseload.REDENEN),
        "alle codes": reasons.choices(tuple(reasons.Reden)),
    }


def test_no_list_offers_a_health_reason() -> None:
    for name, choices in offered_lists().items():
        assert choices, name
        for code, label in choices:
            assert not health_words(code) and not health_words(label), (name, code, label)
            assert code not in reasons.RETIRED, (name, code)


def test_the_health_check_catches_what_it_looks_for() -> None:
    """The oracle: the words the old lists held are found (a check that finds nothing proves nothing)."""
    for text in ("gezondheid", "Ziek gemeld", "medische keuring", "past niet bij de beperking"):
        assert health_words(text), text
    assert not health_words("belastbaarheid (eisen van de baan)")


def test_declining_and_closing_offer_one_and_the_same_list() -> None:
    """One list (issue 18, item 9): the candidate card, the inbox, a voorstel afgewezen or uitgevallen, API and web."""
    one = list(reasons.REDENEN)
    assert list(shortlist.AFWIJS_LABELS) == caseload.REDENEN == one
    assert outcomes.REDENEN[VoorstelStatus.AFGEWEZEN] == outcomes.REDENEN[VoorstelStatus.UITGEVALLEN] == set(one)
    assert len(one) == len(set(reasons.label(code) for code in one)) <= 12  # one label each, short enough to read
    assert not set(one) & set(reasons.RETIRED)
    for template in TEMPLATES.glob("*.html"):  # no form writes its own option list of reasons
        text = template.read_text(encoding="utf-8")
        for select in re.findall(r'<select[^>]*name="reden".*?</select>', text, flags=re.S):
            assert not re.search(r'<option value="[a-z]', select), template.name
            assert not health_words(select), template.name


def _reason_enums(node: Any, path: str = "") -> Iterator[tuple[str, list[Any]]]:
    """The enums of every body field and query parameter named ``reden`` in an OpenAPI document."""
    if isinstance(node, dict):
        fields = dict(node.get("properties", {}))
        if node.get("name") == "reden" and "schema" in node:  # a parameter
            fields["reden"] = node["schema"]
        for name, schema in fields.items():
            if name == "reden":
                found = [sub["enum"] for sub in (schema, *schema.get("anyOf", [])) if "enum" in sub]
                yield f"{path}/{name}", [value for values in found for value in values]
        for key, value in node.items():
            yield from _reason_enums(value, f"{path}/{key}")
    elif isinstance(node, list):
        for number, value in enumerate(node):
            yield from _reason_enums(value, f"{path}/{number}")


def test_the_openapi_document_lists_the_reasons_and_no_health_value(settings: Settings) -> None:
    document = create_app(settings).openapi()
    enums = [(path, values) for path, values in _reason_enums(document) if values]
    assert len(enums) >= 3, enums  # the two declines and the ending; the erasure's reasons too
    for path, values in enums:
        for value in values:
            assert value is None or not health_words(str(value)), (path, value)
    schemas = document["components"]["schemas"]
    declines = ("AfwijzenIn", "KandidaatAfwijzenIn")
    documented = {name: schemas[name]["properties"]["reden"].get("enum") for name in declines}
    assert documented == {name: list(reasons.REDENEN) for name in documented}
    ending = schemas["OvergangIn"]["properties"]["reden"]["enum"]
    assert ending == [*reasons.REDENEN, None]  # the same list, in the same order, optional for other steps


@pytest.fixture
def engine(settings: Settings) -> Engine:
    engine = make_engine(settings.resolved_database_url)
    schema.create_all(engine)
    return engine


def test_a_stored_retired_code_still_reads_but_can_never_be_chosen(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        client, vacancy = make_client(session, consulent="wc-a"), make_vacancy(session)
        voorstel = propose(session, client.client_nummer, vacancy.vacature_nummer, "cons-1", "consulent", at=T0)
        for days, step in enumerate((VoorstelStatus.UITGENODIGD, VoorstelStatus.AANGENOMEN, VoorstelStatus.GEPLAATST)):
            transition(session, voorstel.id, step, "cons-1", at=T0 + (days + 1) * DAY)
        with pytest.raises(InvalidInputError, match="reden 'gezondheid' past niet bij 'uitgevallen'"):
            transition(
                session, voorstel.id, VoorstelStatus.UITGEVALLEN, "cons-1", reason_code="gezondheid", at=T0 + 9 * DAY
            )
        # a row from before the code was withdrawn (the outcome simulator wrote such rows)
        session.add(
            VoorstelEvent(
                voorstel_id=voorstel.id,
                from_status="geplaatst",
                to_status="uitgevallen",
                reason_code="gezondheid",
                actor="cons-1",
                at=T0 + 9 * DAY,
            )
        )
        voorstel.status = VoorstelStatus.UITGEVALLEN
        session.add(voorstel)
        session.commit()
        assert history(session, voorstel.id)[-1].reason_code == "gezondheid"
    shown = voorstellen.read(engine, Actor("consulent1", "werkconsulent", consulent="wc-a"), voorstel.id)
    assert shown["geschiedenis"][-1]["reden"] == "gezondheid"  # what the API answers for it, without an error
    assert reasons.label("gezondheid") == reasons.RETIRED["gezondheid"]
    with pytest.raises(InvalidInputError, match="kies 'belastbaarheid'"):  # the candidate card's refusal, as before
        voorstellen.afwijs_reden("gezondheid", None)
    with pytest.raises(InvalidInputError, match="'gezondheid' is geen geldige reden om af te wijzen"):  # the inbox's
        inbox.decline(engine, Actor("consulent1", "werkconsulent", consulent="wc-a"), 1, "gezondheid")


def test_the_finer_codes_of_the_old_closing_lists_read_but_are_refused() -> None:
    for code in ("competenties_onvoldoende", "reistijd", "klant_trekt_in", "contract_niet_verlengd", "overig"):
        assert code in reasons.RETIRED and code not in set(reasons.REDENEN)
        assert reasons.label(code) == reasons.RETIRED[code]
        with pytest.raises(InvalidInputError, match="geen geldige reden"):
            voorstellen.afwijs_reden(code, None)
