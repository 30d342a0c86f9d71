"""A side's held identifiers and identifier-token BM25 (:mod:`matching.identifier_side`): changed one record at a time,
they hold what a fresh build of the same texts holds."""

from __future__ import annotations

import numpy as np

from matching.identifier_side import IdentifierSide
from matching.identifiers import identifiers

TEXTS = {
    3: "Heftruckchauffeur met VCA en rijbewijs CE.",
    5: "Schoonmaker, geen VCA.",
    8: "Orderpicker met EPT-certificaat, taalniveau B1.",
    9: "Kok in een restaurant.",
}


def _fresh(texts: dict[int, str]) -> IdentifierSide:
    side = IdentifierSide()
    ids = np.array(sorted(texts), np.int64)
    side.fill(ids, [side.parts([texts[key] for key in ids.tolist()])])
    return side


def _held(side: IdentifierSide, ids: np.ndarray) -> list[frozenset[str]]:
    return list(side.held.among(ids))


def test_held_identifiers_are_the_texts_held_ones_case_kept() -> None:
    side = _fresh(TEXTS)
    held = dict(zip(sorted(TEXTS), _held(side, np.array(sorted(TEXTS))), strict=True))
    assert {"cert:vca", "rijbewijs:ce"} <= held[3] and "cert:vca" not in held[5] and "cert:ept" in held[8]
    assert held[9] == frozenset()
    rows = side.held.among(np.array([3, 5, 8]))
    assert rows.holding["cert:vca"] == 1 and rows.holding["cert:ept"] == 1 and len(rows) == 3


def test_rows_asked_in_any_order_and_repeated_read_each_records_own_identifiers() -> None:
    side = _fresh(TEXTS)
    one_by_one = {key: side.held.among(np.array([key]))[0] for key in TEXTS}
    asked = np.array([9, 3, 9, 8, 5, 3])  # an empty row first, repeats, not ascending
    rows = side.held.among(asked)
    assert list(rows) == [one_by_one[key] for key in asked.tolist()]
    counted: dict[str, int] = {}
    for held in rows:
        for name in held:
            counted[name] = counted.get(name, 0) + 1
    assert rows.holding == counted
    assert list(side.held.among(np.zeros(0, np.int64))) == [] and side.held.among(np.zeros(0, np.int64)).holding == {}


def test_rows_holding_any_of_some_identifiers() -> None:
    side = _fresh(TEXTS)
    rows = side.held.among(np.array([9, 3, 8, 3]))
    assert rows.holds_any(frozenset({"cert:vca", "cert:ept"})).tolist() == [False, True, True, True]
    assert rows.holds_any(frozenset({"cert:onbekend"})).tolist() == [False] * 4
    assert side.held.among(np.zeros(0, np.int64)).holds_any(frozenset({"cert:vca"})).tolist() == []


def test_an_insert_a_change_and_a_removal_hold_what_a_fresh_build_holds() -> None:
    side = _fresh(TEXTS)
    side.upsert([5, 12], ["Schoonmaker met VCA-VOL.", "Lasser MIG/MAG, proces 135."])
    side.remove([8])
    now = {key: text for key, text in TEXTS.items() if key != 8} | {
        5: "Schoonmaker met VCA-VOL.",
        12: "Lasser MIG/MAG, proces 135.",
    }
    fresh = _fresh(now)
    ids = np.array(sorted(now), np.int64)
    assert _held(side, ids) == _held(fresh, ids)
    assert list(side.negated.among(ids)) == list(fresh.negated.among(ids))
    for query in ("VCA", "MIG 135", "rijbewijs CE heftruck"):
        assert np.array_equal(side.bm25.scores_for(query, ids), fresh.bm25.scores_for(query, ids))
    assert side.held.rows()[0].tolist() == ids.tolist()


def test_a_restored_copy_holds_the_same() -> None:
    side = _fresh(TEXTS)
    ids, matrix = side.held.rows()
    copy = IdentifierSide()
    copy.held.restore(ids, matrix, side.held.names)
    assert _held(copy, ids) == _held(side, ids)
    copy.held.upsert([9], copy.held.rows_of([{"cert:vca", "cert:haccp"}]))  # the restored vocabulary grows on
    assert copy.held.among(np.array([9]))[0] == {"cert:vca", "cert:haccp"}


def test_a_record_is_known_as_its_text_gives_it_to_a_query() -> None:
    side = _fresh(TEXTS)
    side.upsert([5], ["Schoonmaker, geen VCA en geen BHV."])  # changed: known follows
    texts = TEXTS | {5: "Schoonmaker, geen VCA en geen BHV."}
    known = side.known([3, 5, 8, 9, 77])
    assert known[-1] is None  # not held
    for key, found in zip([3, 5, 8, 9], known, strict=False):
        held, negated = identifiers(texts[key])
        assert found is not None and (found[0], found[1]) == (held, negated)
        assert np.array_equal(found[2], side.bm25.asked([texts[key]])[0])
    assert known[1] is not None and known[1][1] == {"cert:vca", "cert:bhv"} and not known[1][0]
