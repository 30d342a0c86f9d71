"""The model card: the Algoritmeregister's fields, filled from the run, honest about what is missing."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.factories import buried_b_audit as buried_b
from training.model_card import NEVER_FEATURES, CardFacts, render_card

REGISTER_FIELDS = (
    "## Algemene informatie",
    "| Naam |",
    "| Organisatie |",
    "| Korte omschrijving |",
    "| Status |",
    "## Verantwoord gebruik",
    "### Doel en impact",
    "### Afwegingen (proportionaliteit en subsidiariteit)",
    "### Menselijke tussenkomst",
    "### Risicobeheer",
    "### Wettelijke basis",
    "### Impacttoetsen",
    "## Werking",
    "### Gebruikte data en bronnen",
    "### Technische werking",
    "## Prestaties",
    "## Fairness-resultaten",
    "## Monitoring",
    "## Beperkingen",
    "## Herkomst",
)


def facts(**overrides) -> CardFacts:
    values = {
        "model": "werkmatch-ranker",
        "version": "3",
        "aliases": ("challenger",),
        "run_id": "abc123",
        "created": datetime(2026, 5, 1, tzinfo=UTC),
        "params": {"lgbm_num_leaves": "31", "seed": "0", "since": "alles", "holdout_share": "0.2"},
        "metrics": {
            "holdout_ndcg_at_10": 0.73,
            "holdout_ndcg_at_10_low": 0.71,
            "holdout_ndcg_at_10_high": 0.75,
            "holdout_weighted_ndcg_at_10": 0.65,
            "train_pairs": 1000,
            "holdout_pairs": 250,
        },
        "tags": {"data_hash": "f00dfeed", "git_sha": "deadbeef", "trained_by": "ds-test", "holdout_from": "2026-01-01"},
        "fairness": buried_b(),
    }
    return CardFacts(**{**values, **overrides})


def test_the_card_has_every_register_field_and_the_runs_facts() -> None:
    card = render_card(facts())
    for heading in REGISTER_FIELDS:
        assert heading in card, heading
    assert "Modelkaart: werkmatch-ranker versie 3" in card and "In ontwikkeling (challenger" in card
    assert "bijlage III punt 4(a)" in card and "nooit een besluit" in card
    assert "`f00dfeed`" in card and "`deadbeef`" in card and "ds-test" in card and "2026-01-01" in card
    assert "0.730 [0.710, 0.750]" in card and "0.650" in card and "num_leaves=31" in card
    assert all(item in card for item in NEVER_FEATURES)
    assert "| groep | b |" in card and "**OVERSCHRIJDING**" in card and "te klein" in card
    assert "(nog) niet tot champion gepromoveerd" in card


def test_without_an_audit_the_card_says_so_and_why() -> None:
    card = render_card(facts(fairness=None, fairness_missing="er is geen audittabel (audit_kenmerken)"))
    assert "De fairness-audit kon niet worden uitgevoerd" in card and "er is geen audittabel" in card


def test_a_promotion_with_a_justification_is_written_in_the_card() -> None:
    tags = {
        "promoted_by": "datascientist",
        "promoted_at": "2026-05-02T10:00:00+00:00",
        "promotion_forced": "false",
        "promotion_reason": "gates gehaald",
        "promotion_gain_ndcg_at_10": "0.02",
        "previous_champion": "baseline",
        "fairness_gate": "verantwoord",
        "fairness_justification": "Trede 0 staat op de route Meedoen; deze vacatures zijn regulier werk.",
        "fairness_justified_by": "datascientist",
        "fairness_justified_at": "2026-05-02T10:00:00+00:00",
        "fairness_breaches": "groep=b: 0.02 [0.01, 0.03] (zeker onder 0.8)",
    }
    card = render_card(facts(aliases=("champion",), tags=tags))
    assert "In gebruik (champion" in card and "Gepromoveerd door **datascientist**" in card
    assert "> Trede 0 staat op de route Meedoen" in card and "vastgelegd door datascientist" in card
    assert "groep=b: 0.02" in card and "Fairnesspoort: verantwoord" in card


def _served(merit: bool) -> dict:
    row = {
        "clients": 120,
        "exposureVsMerit": 0.91,
        "exposureVsMeritCI": [0.8, 1.02],
        "ratio": 0.5,
        "ratioCI": [0.4, 0.6],
    }
    before = {"1": {"exposureVsMerit": 0.29, "exposureVsMeritCI": [0.2, 0.38]}}
    served = {
        "method": {"strength": 0.25, "floor": 1.0},
        "vacancies": 200,
        "minGroup": 30,
        "attributes": {"trede": {"groups": {"1": row if merit else {**row, "exposureVsMerit": None}}}},
        "relevanceOnly": {"trede": before},
    }
    if merit:
        served.update({"ndcg@10Cost": 0.031, "ndcg@10CostCI": [0.02, 0.042], "goal": {"groupsBelow": []}})
    return served


def test_the_card_shows_the_served_lists_before_and_after() -> None:
    card = render_card(facts(fairness={**buried_b(), "served": _served(merit=True)}))
    assert "### Getoonde lijsten (na herordening voor blootstelling)" in card
    assert "| trede | 1 | 120 | 0.29 [0.20, 0.38] | 0.91 [0.80, 1.02] | – | – | – | – | 0.50 [0.40, 0.60] |" in card
    assert "3.1 % [2.0 %, 4.2 %]" in card
    real = render_card(facts(fairness={"served": _served(merit=False)}))  # real data: exposure vs pool only
    assert "| trede | 1 | 120 | 0.29 [0.20, 0.38] | – | – | – | – | – | 0.50 [0.40, 0.60] |" in real
    assert "alleen de verhouding tot de pool" in real and "| groep | b |" not in real


def test_the_card_says_how_shown_lists_are_reordered() -> None:
    floor = {"floor_platt_a": "2.1", "floor_platt_b": "-3.4", "floor_platt_rows": "812", "floor_target": "0.8"}
    floor |= {"floor_slack": "1.0", "floor_max_swaps": "3", "floor_groups": "trede+geschiedenis+route"}
    card = render_card(facts(params={**facts().params, **floor}))
    assert "afgeschreven vloer naar verwachte verdienste" in card and "(trede, ooit voorgesteld, route)" in card
    assert "a = 2.1, b = -3.4, op 812 besliste voorstellen" in card and "hoogstens 3 wissels" in card
    assert "geen Platt-parameters" in render_card(facts())  # a model without them keeps the merit floor


def test_the_card_shows_how_readable_each_served_group_is() -> None:
    served = _served(merit=True)
    served["attributes"]["trede"]["groups"]["1"].update(
        exposureVsMerit=0.7,
        exposureVsMeritClientCI=[0.34, 1.11],
        effectiveMeritClients=5.4,
        placeboBelow=0.16,
        meritVerdict="onleesbaar",
    )
    card = render_card(facts(fairness={**buried_b(), "served": served}))
    assert "| 0.70 [0.80, 1.02] | [0.34, 1.11] | 5.4 | 16 % | onleesbaar | 0.50 [0.40, 0.60] |" in card
    assert "anders onleesbaar" in card and "Het doel en de promotiepoort lezen nog steeds de puntschatting" in card
    assert "groep=b" in card and "(onder)" in card  # the gate's own audit table shows the verdict beside the ratio
