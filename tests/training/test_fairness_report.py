"""The person-readable fairness report: breaches as the gate reads them, HTML in Dutch, PNG plots, raw JSON."""

from __future__ import annotations

import json
from pathlib import Path

from tests.factories import buried_b_audit as buried_b
from training.fairness_report import RAW, REPORT, breaches, describe_breach, merit_breaches, render_report
from training.promotion import fairness_gate

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_breaches_are_point_ratios_under_the_tripwire_in_groups_large_enough() -> None:
    found = breaches(buried_b())
    assert [(b["attribute"], b["group"]) for b in found] == [("groep", "b")]  # "klein" is too small: reported only
    assert found[0]["certain"] and found[0]["ratioCI"][1] < 0.8 and found[0]["clients"] >= 30
    assert "groep=b" in describe_breach(found[0]) and "zeker onder 0.8" in describe_breach(found[0])


def test_a_noisy_ratio_under_the_tripwire_is_still_a_breach_but_marked_unsure() -> None:
    audit = {
        "tripwire": 0.8,
        "minGroup": 30,
        "attributes": {
            "trede": {
                "groups": {
                    "1": {"clients": 40, "ratio": 0.75, "ratioCI": [0.55, 0.98]},
                    "4": {"clients": 400, "ratio": 1.1, "ratioCI": [1.0, 1.2]},
                    "0": {"clients": 12, "ratio": 0.1, "ratioCI": [0.0, 0.3]},
                }
            }
        },
    }
    [found] = breaches(audit)
    assert found["group"] == "1" and not found["certain"]
    assert "onzeker" in describe_breach(found)
    assert breaches(None) == []


def test_the_report_has_dutch_tables_plots_and_the_raw_audit(tmp_path: Path) -> None:
    audit = buried_b()
    audit["counterfactual"] = {"rbo": 0.95, "min": 0.7, "vacancies": 12, "swappedProfiles": 40, "changedTop10": 3}
    page = render_report(audit, tmp_path / "fairness", title="testmodel versie 1")
    assert page == tmp_path / "fairness" / REPORT
    text = page.read_text(encoding="utf-8")
    for heading in ("Fairness-audit: testmodel versie 1", "Samenvatting", "Contrafeitelijke test", "Zo lees je dit"):
        assert heading in text
    assert "OVERSCHRIJDING" in text and "te klein" in text  # in words, not only colour
    assert "groep=b" in text and "Equalized-odds-verschil" in text
    for plot in ("ratio-groep.png", "blootstelling-groep.png"):
        assert (tmp_path / "fairness" / plot).read_bytes().startswith(PNG_MAGIC)
        assert f"src='{plot}'" in text
    assert json.loads((tmp_path / "fairness" / RAW).read_text(encoding="utf-8")) == json.loads(json.dumps(audit))


def test_without_an_audit_the_report_says_it_could_not_run_and_why(tmp_path: Path) -> None:
    page = render_report(None, tmp_path, title="versie 2", missing_reason="er is geen audittabel")
    text = page.read_text(encoding="utf-8")
    assert "De audit kon niet worden uitgevoerd" in text and "er is geen audittabel" in text
    assert json.loads((tmp_path / RAW).read_text(encoding="utf-8")) == {
        "available": False,
        "reason": "er is geen audittabel",
    }
    assert not list(tmp_path.glob("*.png"))


def _served(value: float, clients: int = 80, merit: bool = True) -> dict:
    row = {"clients": clients, "exposureVsMerit": value, "exposureVsMeritCI": [value - 0.1, value + 0.1]}
    served = {"minGroup": 30, "attributes": {"trede": {"groups": {"1": {**row, "ratio": 0.3, "ratioCI": [0.2, 0.4]}}}}}
    return {**served, "goal": {"groupsBelow": []}} if merit else served


def test_the_gate_reads_exposure_against_merit_of_the_served_lists() -> None:
    under = merit_breaches(_served(0.6))
    assert [(b["attribute"], b["group"], b["ratio"]) for b in under] == [("trede", "1", 0.6)]
    assert under[0]["certain"] and "trede=1: blootstelling ÷ verdienste 0.60" in describe_breach(under[0])
    assert merit_breaches(_served(0.6, clients=12)) == [] and merit_breaches(_served(0.85)) == []
    # the served lists decide, not the raw ranking's pool ratio (0.02 for groep b in buried_b)
    assert fairness_gate({**buried_b(), "served": _served(0.85)})["passed"]
    refused = fairness_gate({**buried_b(), "served": _served(0.6)})
    assert not refused["passed"] and [b["group"] for b in refused["breaches"]] == ["1"]
    assert not fairness_gate(buried_b())["passed"]  # an audit saved before the served part: the pool tripwire
    real = fairness_gate({"served": _served(0.6, merit=False)}, "echte gegevens")  # no merit: pool ratio only
    assert not real["passed"] and "echte gegevens" in real["basis"] and real["breaches"][0]["ratio"] == 0.3


def test_the_report_shows_the_served_lists_before_and_after(tmp_path: Path) -> None:
    served = _served(0.91)
    served["relevanceOnly"] = {"trede": {"1": {"exposureVsMerit": 0.29, "exposureVsMeritCI": [0.2, 0.38]}}}
    served["ndcg@10Cost"] = 0.031
    text = render_report({**buried_b(), "served": served}, tmp_path, title="v1").read_text(encoding="utf-8")
    assert "Getoonde lijsten (na herordening voor blootstelling)" in text
    assert "<td>trede=1</td><td>80</td><td>0,29 [0.20, 0.38]</td><td><strong>0,91</strong> [0.81, 1.01]</td>" in text
    assert "3,1 %" in text
