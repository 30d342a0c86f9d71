"""Candidate filters: ``minUren`` means workable hours, and an emptied list names the filter that emptied it."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from matching.annotate import filter_sentences
from matching.hard_filters import CandidateFilters
from matching.matcher import Matcher
from tests.factories import make_client, make_vacancy


@pytest.fixture
def world(settings, embedder) -> Matcher:
    """A 28–36 hour vacancy (the walkthrough's) and clients with different hour ranges near it."""
    matcher = Matcher(settings, embedder=embedder)
    with Session(matcher.engine) as session:
        make_vacancy(session, vacature_nummer="V-UREN", uren_min=28, uren_max=36)
        make_client(session, client_nummer="K-VOLTIJD", uren_min=0, uren_max=40)  # shares 8 h of range, can work 36
        make_client(session, client_nummer="K-32", uren_min=32, uren_max=32)  # shares 0 h of range, can work 32
        make_client(session, client_nummer="K-DEELTIJD", uren_min=12, uren_max=30)  # can work at most 30 there
    return matcher


def found(matcher: Matcher, min_hours: float, **filters) -> set[str]:
    listing = matcher.search_candidates("V-UREN", top=20, filters=CandidateFilters(min_hours=min_hours, **filters))
    return {item.client_id for item in listing.results}


def test_min_hours_is_what_the_client_can_work_within_the_vacancys_range(world: Matcher) -> None:
    # 16 and 24 gave nobody on a 28–36 h vacancy when the filter read the overlap of the two ranges (issue 18)
    assert found(world, 16) == found(world, 24) == {"K-VOLTIJD", "K-32", "K-DEELTIJD"}
    assert found(world, 31) == {"K-VOLTIJD", "K-32"}  # K-DEELTIJD works 30 at most
    assert found(world, 33) == {"K-VOLTIJD"}
    assert found(world, 37) == set()  # the vacancy offers 36 at most


def test_an_emptied_list_names_the_filter_that_emptied_it(world: Matcher) -> None:
    empty = world.search_candidates("V-UREN", top=20, filters=CandidateFilters(min_hours=37)).niet_getoond
    assert empty.buiten_filters == 3
    assert (
        "De lijst is leeg door de gekozen filters (het minimum aantal uren per week 3 klanten); "
        "zet dat filter ruimer of uit om klanten te zien." in empty.toelichting
    )
    two = world.search_candidates("V-UREN", top=20, filters=CandidateFilters(min_hours=37, trede=frozenset({0})))
    assert (
        "De lijst is leeg door de gekozen filters (de trede 3 klanten, het minimum aantal uren per week 3 klanten); "
        "zet die filters ruimer of uit om klanten te zien." in two.niet_getoond.toelichting
    )
    shown = world.search_candidates("V-UREN", top=20, filters=CandidateFilters(min_hours=33)).niet_getoond
    assert "Per filter weggelaten: het minimum aantal uren per week 2 klanten." in shown.toelichting
    assert not any(line.startswith("De lijst is leeg") for line in shown.toelichting)


def test_the_filter_sentence_counts_in_the_right_number() -> None:
    assert filter_sentences({"alleenEigenKlanten": 1, "trede": 0}, "klanten", empty=False) == [
        "Per filter weggelaten: alleen eigen klanten 1 klant."
    ]
    assert filter_sentences({"straalKm": 2, "minUren": 1}, "klanten", empty=True) == [
        "De lijst is leeg door de gekozen filters (de straal 2 klanten, het minimum aantal uren per week 1 klant); "
        "zet die filters ruimer of uit om klanten te zien."
    ]
