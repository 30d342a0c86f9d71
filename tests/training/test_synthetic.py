"""Synthetic data and its hidden truth: determinism, the input contract, distributions, privacy, the oracle."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlmodel import Session, func, select

from matching.domain import (
    AuditKenmerken,
    Client,
    ClientIn,
    ClientPersonalia,
    Vacancy,
    VacancyIn,
    client_from_input,
    vacancy_from_input,
)
from matching.store import make_engine
from matching.taxonomy import load_taxonomy
from training import latent, synthetic
from training.population.region import Region
from training.truth_arrays import ClientArrays, Codebook, VacancyProfile, build_client_arrays, build_vacancy_profile

GENDERED_OR_ORIGIN_WORDS = {
    "hij",
    "zij",
    "haar",
    "moeder",
    "vader",
    "man",
    "vrouw",
    "meneer",
    "mevrouw",
    "dhr",
    "mevr",
    "jongen",
    "meisje",
    "statushouder",
    "vluchteling",
    "migratie",
    "migratieachtergrond",
    "allochtoon",
    "westers",
    "niet-westers",
    "leeftijd",
    "geboren",
}
PROTECTED_FIELDS = {"geslacht", "geboortejaar", "migratieachtergrond", "leeftijd", "voornaam", "achternaam"}


@pytest.fixture(scope="module")
def data() -> synthetic.SyntheticData:
    return synthetic.generate(600, 300, seed=11)


@pytest.fixture(scope="module")
def codebook() -> Codebook:
    return Codebook.from_taxonomy(load_taxonomy())


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags)


def _dump(data: synthetic.SyntheticData) -> dict[str, Any]:
    return {
        "clients": [c.model_dump(mode="json") for c in data.clients],
        "vacancies": [v.model_dump(mode="json") for v in data.vacancies],
        "personalia": data.personalia,
        "audit": data.audit,
        "client_latent": data.client_latent,
        "vacancy_latent": data.vacancy_latent,
    }


# --- generation -----------------------------------------------------------------------------------


def test_same_seed_gives_identical_output_and_another_seed_does_not() -> None:
    first, again, other = (synthetic.generate(80, 40, seed=s) for s in (5, 5, 6))
    assert _dump(first) == _dump(again)
    assert _dump(first)["clients"] != _dump(other)["clients"]
    assert _dump(first)["vacancies"] != _dump(other)["vacancies"]


@pytest.mark.slow  # the quick subset stays under 3 minutes; CI runs it
def test_batches_give_the_same_records_as_one_run() -> None:
    whole = synthetic.generate(1100, 20, seed=3)
    batches = list(synthetic.iter_batches(1100, 20, seed=3, batch_size=1000))
    assert [len(b.clients) for b in batches] == [1000, 100, 0]
    merged = synthetic.SyntheticData()
    for batch in batches:
        merged.extend(batch)
    assert _dump(merged) == _dump(whole)


def test_every_record_passes_the_input_contract(data: synthetic.SyntheticData) -> None:
    for client in data.clients:
        assert ClientIn.model_validate(client.model_dump(by_alias=True)) == client
    for vacancy in data.vacancies:
        assert VacancyIn.model_validate(vacancy.model_dump(by_alias=True)) == vacancy
    assert len({c.client_nummer for c in data.clients}) == len(data.clients)
    assert len({v.vacature_nummer for v in data.vacancies}) == len(data.vacancies)
    assert all(re.fullmatch(r"K\d{7}", c.client_nummer) for c in data.clients)
    assert len(data.personalia) == len(data.audit) == len(data.client_latent) == len(data.clients)
    assert len(data.vacancy_latent) == len(data.vacancies)


def test_client_distributions_are_roughly_as_designed(data: synthetic.SyntheticData) -> None:
    clients = data.clients
    assert 0.35 < _share([not c.beperkingen for c in clients]) < 0.65  # about half have none
    assert max(len(c.beperkingen) for c in clients) <= 3
    assert _share([c.trede <= 3 for c in clients]) > 0.6  # many at 0–3, fewer at 4–5
    assert 0.12 < _share([c.opleidingsniveau is None for c in clients]) < 0.30
    assert 0.20 < _share([not c.wensen.sectoren for c in clients]) < 0.42
    assert 0.04 < _share([not c.competenties for c in clients]) < 0.18
    assert 0.04 < _share([c.taalniveau is None for c in clients]) < 0.18
    assert _share([c.taalniveau in ("A0", "A1", "A2") for c in clients]) > 0.15  # statushouders
    assert 0.30 < _share(["B" in c.rijbewijs for c in clients]) < 0.55
    region = {pc4 for pc4s in Region.build().pc4s.values() for pc4 in pc4s}
    assert all(c.postcode[:4] in region for c in clients)
    assert _share([c.postcode[:3] in ("681", "682", "683", "684") for c in clients]) > 0.5  # Arnhem most
    for client in clients:  # route follows trede
        if client.trede == 0:
            assert client.route == "meedoen"
        if client.trede >= 4:
            assert client.route == "werk"
    ages = [synthetic.DEFAULT_REFERENCE_DATE.year - a["geboortejaar"] for a in data.audit]
    assert min(ages) >= 18 and max(ages) <= 66
    assert {a["migratieachtergrond"] for a in data.audit} == {"geen", "westers", "niet-westers"}


def test_vacancy_distributions_are_roughly_as_designed(data: synthetic.SyntheticData) -> None:
    vacancies = data.vacancies
    wsp = [v for v in vacancies if v.bron == "WSP"]
    scalabor = [v for v in vacancies if v.bron == "Scalabor"]
    assert 0.55 < len(wsp) / len(vacancies) < 0.75
    assert 0.75 < _share([v.status == "open" for v in vacancies]) < 0.93
    assert _share([v.jobcoach for v in scalabor]) > _share([v.jobcoach for v in wsp]) + 0.3
    assert _share([v.jobcarving for v in scalabor]) > _share([v.jobcarving for v in wsp])
    assert {v.plaatsingsvorm for v in wsp} <= {"regulier", "regulier_met_loonkostensubsidie", "proefplaatsing"}
    assert "regulier" not in {v.plaatsingsvorm for v in scalabor}
    assert _share([v.taalniveau in ("B1", "B2", "C1") for v in wsp]) > _share(
        [v.taalniveau in ("B1", "B2", "C1") for v in scalabor]
    )
    assert all(2 <= len(v.competenties_vereist) <= 5 and 1 <= len(v.competenties_gewenst) <= 4 for v in vacancies)
    assert np.mean([v.uren_max for v in wsp]) > np.mean([v.uren_max for v in scalabor])


def test_no_name_or_protected_attribute_appears_in_client_text(data: synthetic.SyntheticData) -> None:
    assert not PROTECTED_FIELDS & set(ClientIn.model_fields)
    for client, personalia, audit in zip(data.clients, data.personalia, data.audit, strict=True):
        text = f"{client.zelfbeschrijving}\n{client.notities}"
        words = set(re.findall(r"[\w'-]+", text))
        assert f"{personalia['voornaam']} {personalia['achternaam']}" not in text
        assert personalia["voornaam"] not in words, (personalia, text)
        assert personalia["achternaam"] not in words, (personalia, text)
        assert str(audit["geboortejaar"]) not in text
        assert not GENDERED_OR_ORIGIN_WORDS & {word.lower() for word in words}, text


def test_texts_are_varied_and_sometimes_missing(data: synthetic.SyntheticData) -> None:
    descriptions = [c.zelfbeschrijving for c in data.clients]
    notes = [c.notities for c in data.clients]
    assert 0.03 < _share([not d for d in descriptions]) < 0.25
    assert len(set(descriptions)) > 0.6 * len(descriptions)
    assert len(set(notes)) > 0.6 * len(notes)
    assert len({v.omschrijving for v in data.vacancies}) == len(data.vacancies)


# --- database -------------------------------------------------------------------------------------


def test_write_to_db_round_trips_counts_and_links(tmp_path: Path, data: synthetic.SyntheticData) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'synthetic.db'}")
    assert synthetic.write_to_db(engine, data, progress=False) == (600, 300)
    with Session(engine) as session:
        for model, expected in ((Client, 600), (ClientPersonalia, 600), (AuditKenmerken, 600), (Vacancy, 300)):
            assert session.exec(select(func.count()).select_from(model)).one() == expected
        kind = latent.SyntheticLatent.kind
        counts = session.exec(select(kind, func.count()).group_by(kind)).all()
        assert {name: count for name, count in counts} == {"client": 600, "vacancy": 300}
        row = session.exec(select(Client).where(Client.client_nummer == data.clients[42].client_nummer)).one()
        assert session.get(ClientPersonalia, row.id).achternaam == data.personalia[42]["achternaam"]
        assert session.get(AuditKenmerken, row.id).geboortejaar == data.audit[42]["geboortejaar"]
        factors = session.exec(
            select(latent.SyntheticLatent.factors).where(
                latent.SyntheticLatent.kind == "client", latent.SyntheticLatent.entity_id == row.id
            )
        ).one()
        assert factors == data.client_latent[42]
    with pytest.raises(ValueError, match="bestaan al"):
        synthetic.write_to_db(engine, data, progress=False)


def _table_rows(engine: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the synthetic tables in key order, without the write time."""
    tables = (Client, ClientPersonalia, AuditKenmerken, Vacancy, latent.SyntheticLatent)
    with Session(engine) as session:
        return {
            table.__name__: [
                tuple(row)
                for row in session.execute(
                    select(*[c for c in table.__table__.columns if not c.name.endswith("_at")]).order_by(
                        *table.__table__.primary_key
                    )
                )
            ]
            for table in tables
        }


@pytest.mark.slow  # the quick subset stays under 3 minutes; CI runs it
def test_write_streaming_writes_what_generate_writes(tmp_path: Path) -> None:
    whole = make_engine(f"sqlite:///{tmp_path / 'whole.db'}")
    synthetic.write_to_db(whole, synthetic.generate(2100, 1100, seed=11), progress=False)
    streamed = make_engine(f"sqlite:///{tmp_path / 'streamed.db'}")
    # batches of one chunk (1,000): three transactions of clients, two of vacancies
    assert synthetic.write_streaming(streamed, 2100, 1100, seed=11, batch_size=1000, progress=False) == (2100, 1100)
    expected = _table_rows(whole)
    assert [len(rows) for rows in expected.values()] == [2100, 2100, 2100, 1100, 3200]
    assert _table_rows(streamed) == expected


# --- the hidden truth -----------------------------------------------------------------------------


def _arrays(data: synthetic.SyntheticData, codebook: Codebook) -> ClientArrays:
    pairs = zip(data.clients, data.client_latent, strict=True)
    records = [(i + 1, client_from_input(c), f) for i, (c, f) in enumerate(pairs)]
    return build_client_arrays(records, codebook)


def _vacancy(data: synthetic.SyntheticData, codebook: Codebook, index: int) -> VacancyProfile:
    return build_vacancy_profile(
        index + 1, vacancy_from_input(data.vacancies[index]), data.vacancy_latent[index], codebook
    )


def test_truth_is_deterministic_and_vectorised(data: synthetic.SyntheticData, codebook: Codebook) -> None:
    clients = _arrays(data, codebook)
    for index in range(0, 300, 37):
        vacancy = _vacancy(data, codebook, index)
        scores, eligible = latent.evaluate(clients, vacancy)
        again, _ = latent.evaluate(_arrays(data, codebook), vacancy)
        np.testing.assert_array_equal(scores, again)
        one_by_one = np.concatenate([latent.true_suitability(clients.take(np.array([i])), vacancy) for i in range(50)])
        np.testing.assert_allclose(one_by_one, scores[:50], rtol=1e-6)
        np.testing.assert_array_equal(latent.true_eligible(clients, vacancy), eligible)
        assert scores.dtype == np.float32 and np.isfinite(scores).all()
    # Permuting the clients permutes the scores and nothing else.
    order = np.random.default_rng(0).permutation(len(clients))
    np.testing.assert_array_equal(latent.true_suitability(clients.take(order), vacancy), scores[order])


def _client_record(occupation: Any, matches: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """One hand-made client, experienced in ``occupation`` (or in nothing) and otherwise fixed."""
    competences = {code: 3 for code in occupation.competenties} if matches else {}
    profile = client_from_input(
        ClientIn(
            client_nummer="K9999999",
            consulent="wc-test-01",
            trede=4,
            route="werk",
            postcode="6811AB",
            werkervaring=[{"beroep_code": occupation.code, "jaren": 5}] if matches else [],
            vervoermiddel=["fiets"],
            uren_min=20,
            uren_max=36,
            wensen={"max_reistijd_min": 60},
        )
    )
    factors = {
        "trede_werkelijk": 4.0,
        "motivatie": 0.0,
        "betrouwbaarheid": 0.0,
        "vermogen": 0.0,
        "competenties": competences,
        "beperkingen": {},
        "taalniveau": "C1",
        "sectoren": [],
        "match_key": 12345,
    }
    return profile, factors


def _vacancy_for(occupation: Any, codebook: Codebook, **overrides: Any) -> VacancyProfile:
    vacancy = VacancyIn(
        vacature_nummer="V-TEST",
        bron="WSP",
        werkgever="Test B.V.",
        titel=occupation.label,
        beroep_code=occupation.code,
        postcode="6812",
        uren_min=24,
        uren_max=32,
        competenties_vereist=[{"code": c, "niveau": 2} for c in occupation.competenties[:3]],
        competenties_gewenst=[{"code": occupation.competenties[3], "niveau": 1}],
        **overrides,
    )
    factors = {"openheid": 0.0, "begeleiding_kwaliteit": 0.0, "werkdruk": 0.0, "match_key": 999}
    return build_vacancy_profile(1, vacancy_from_input(vacancy), factors, codebook)


def test_matching_occupation_and_competences_raise_true_suitability(codebook: Codebook) -> None:
    taxonomy = load_taxonomy()
    occupation = next(o for o in taxonomy.occupations.values() if len(o.competenties) >= 4)
    records = [(1, *_client_record(occupation, matches=True)), (2, *_client_record(occupation, matches=False))]
    clients = build_client_arrays(records, codebook)
    scores, eligible = latent.evaluate(clients, _vacancy_for(occupation, codebook))
    assert eligible.all()
    assert scores[0] > scores[1] + 1.0


def test_jobcarving_and_jobcoach_soften_a_conflicting_beperking(codebook: Codebook) -> None:
    taxonomy = load_taxonomy()
    occupation = next(o for o in taxonomy.occupations.values() if len(o.competenties) >= 4)
    profile, factors = _client_record(occupation, matches=True)
    bad_back = {**factors, "beperkingen": {"tillen": 3}}
    clients = build_client_arrays([(1, profile, factors), (2, profile, bad_back)], codebook)
    heavy = [{"aspect": "tillen", "niveau": 3}]
    plain = latent.evaluate(clients, _vacancy_for(occupation, codebook, belasting=heavy))
    carved = latent.evaluate(clients, _vacancy_for(occupation, codebook, belasting=heavy, jobcarving=True))
    assert plain[0][1] < plain[0][0] and not plain[1][1]  # cannot lift at all: not eligible without jobcarving
    assert carved[1][1] and carved[0][1] > plain[0][1]  # jobcarving makes it workable and less costly
    psychic = [{"aspect": "prikkels", "niveau": 3}]
    overwhelmed = {**factors, "beperkingen": {"prikkels": 2}}
    clients = build_client_arrays([(1, profile, overwhelmed)], codebook)
    alone = latent.true_suitability(clients, _vacancy_for(occupation, codebook, belasting=psychic))
    coached = latent.true_suitability(clients, _vacancy_for(occupation, codebook, belasting=psychic, jobcoach=True))
    assert coached[0] > alone[0]


def test_latent_motivation_counts_and_client_arrays_have_no_protected_fields(codebook: Codebook) -> None:
    assert not PROTECTED_FIELDS & {f.name for f in dataclasses.fields(ClientArrays)}
    taxonomy = load_taxonomy()
    occupation = next(o for o in taxonomy.occupations.values() if len(o.competenties) >= 4)
    profile, factors = _client_record(occupation, matches=True)
    keen = {**factors, "motivatie": 1.5}
    clients = build_client_arrays([(1, profile, factors), (2, profile, keen)], codebook)
    scores = latent.true_suitability(clients, _vacancy_for(occupation, codebook))
    assert scores[1] > scores[0]


def test_true_top_clients_ignore_protected_attributes(tmp_path: Path, data: synthetic.SyntheticData) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'truth.db'}")
    synthetic.write_to_db(engine, data, progress=False)
    with Session(engine) as session:
        open_ids = list(session.exec(select(Vacancy.id).where(Vacancy.status == "open").limit(5)))
    before = {v: latent.true_top_clients(engine, v, 50) for v in open_ids}
    with Session(engine) as session:
        for row in session.exec(select(AuditKenmerken)):
            row.geslacht = "man" if row.geslacht == "vrouw" else "vrouw"
            row.geboortejaar = 1960
            row.migratieachtergrond = "niet-westers" if row.migratieachtergrond == "geen" else "geen"
            session.add(row)
        session.commit()
    clients = latent.load_client_arrays(engine)
    after = {v: latent.true_top_clients(engine, v, 50, clients=clients) for v in open_ids}
    assert before == after
    assert any(before.values())


def test_true_top_clients_are_the_best_eligible(tmp_path: Path, data: synthetic.SyntheticData) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'top.db'}")
    synthetic.write_to_db(engine, data, progress=False)
    clients = latent.load_client_arrays(engine)
    with Session(engine) as session:
        vacancy_id = session.exec(select(Vacancy.id).where(Vacancy.status == "open")).first()
    vacancy = latent.load_vacancy_profile(engine, vacancy_id)
    scores, eligible = latent.evaluate(clients, vacancy)
    top = latent.true_top_clients(engine, vacancy_id, 20, clients=clients)
    brute = [int(clients.ids[i]) for i in sorted(np.flatnonzero(eligible), key=lambda i: (-scores[i], clients.ids[i]))]
    assert top == brute[:20]
    with pytest.raises(LookupError):
        latent.load_vacancy_profile(engine, 10_000_000)


def test_top_clients_matches_a_full_sort_with_ties() -> None:
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 20, 1000).astype(np.float32)  # many ties
    eligible = rng.random(1000) < 0.7
    ids = rng.permutation(1000) + 1
    rows = [i for i in np.argsort(ids) if eligible[i]]
    expected = [ids[i] for i in sorted(rows, key=lambda i: (-scores[i], ids[i]))][:50]
    assert list(latent.top_clients(scores, eligible, ids, 50)) == expected
    assert len(latent.top_clients(scores, np.zeros(1000, bool), ids, 50)) == 0


def test_chemistry_is_a_standard_normal_and_pure() -> None:
    keys = np.arange(100_000, dtype=np.uint64) * np.uint64(7919)
    values = latent.chemistry(keys, 42)
    assert abs(values.mean()) < 0.02 and abs(values.std() - 1.0) < 0.02
    np.testing.assert_array_equal(values, latent.chemistry(keys, 42))
    assert np.corrcoef(values, latent.chemistry(keys, 43))[0, 1] < 0.02
