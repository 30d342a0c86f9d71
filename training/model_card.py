"""A model card per registered ranker version, in the fields of the Dutch Algoritmeregister (Markdown, Dutch).

The Algoritmeregister (algoritmes.overheid.nl; Algoritmekader vereiste bzk-01, maatregel imp-04:
"publiceer impactvolle algoritmes en hoog-risico-AI-systemen") asks, in its publicatiestandaard,
for three blocks: *algemene informatie* (naam, organisatie, korte omschrijving, type, thema,
status, begindatum, contact), *verantwoord gebruik* (doel en impact, afwegingen/proportionaliteit,
menselijke tussenkomst, risicobeheer, wettelijke basis, impacttoetsen) and *werking* (gebruikte data
en bronnen, technische werking, leverancier, broncode). The card follows those headings and adds
what a technical file (AI Act art. 11, Annex IV) needs of one version: prestaties, fairness-resultaten,
monitoring, beperkingen, what is never a feature, herkomst and promotie.

Facts come from the run and the version (:func:`card_facts`: parameters, metrics, data hash, git
SHA, trained_by, holdout, the fairness audit saved with the run, promotion and justification tags);
the rest is fixed text about the intended use: advice to a consulent, never a decision. Fields
only the organisation can fill (contact, DPIA/IAMA references, the legal basis as the FG confirms
it) say so instead of guessing.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matching.errors import NotFoundError
from matching.features import FEATURES
from matching.notes_readiness import FEATURE as NOTES_FEATURE
from matching.settings import Settings
from training import registry
from training.fairness_report import RAW, breaches, describe_breach

CARD = "model_card.md"
FAIRNESS_DIR = "fairness"
ORGANISATION = "Gemeente, afdeling Werk & Inkomen (vul de gemeente in bij publicatie)"
# Never a feature (matching/features.py; a test enforces it): the ranker cannot read these.
NEVER_FEATURES = (
    "geslacht, geboortedatum of leeftijd",
    "nationaliteit, migratieachtergrond, geboorteland of taal van herkomst als zodanig",
    "postcode of wijk als kenmerk (alleen reisafstand en reistijd tot het werk)",
    "BSN, naam of klantnummer",
    "beperkingen en gezondheidsgegevens als kenmerk (alleen als harde, uitlegbare voorwaarde)",
    "inkomen, uitkeringshoogte, schulden, sancties of handhavingsgegevens",
    "de uitkomsten van eerdere fraudeonderzoeken",
)


@dataclass
class CardFacts:
    """Everything the card states about one version."""

    model: str
    version: str
    aliases: tuple[str, ...] = ()
    run_id: str | None = None
    created: datetime | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # run tags, then version tags on top
    fairness: dict[str, Any] | None = None
    fairness_missing: str | None = None  # why there is no audit
    features: tuple[str, ...] = ()  # the run's feature list (empty: the code's)


def _status(aliases: tuple[str, ...]) -> str:
    if "champion" in aliases:
        return "In gebruik (champion: deze versie rangschikt de kandidatenlijsten)"
    if "challenger" in aliases:
        return "In ontwikkeling (challenger: wacht op de promotietoets, rangschikt nog niets)"
    return "Buiten gebruik (eerdere of afgewezen versie; bewaard voor verantwoording)"


def _metric(metrics: dict[str, float], name: str) -> str:
    value = metrics.get(name)
    if value is None:
        return "–"
    low, high = metrics.get(f"{name}_low"), metrics.get(f"{name}_high")
    interval = f" [{low:.3f}, {high:.3f}]" if low is not None and high is not None else ""
    return f"{value:.3f}{interval}"


def _fairness_section(facts: CardFacts) -> list[str]:
    lines = ["## Fairness-resultaten", ""]
    audit = facts.fairness
    if audit is None:
        lines += [
            f"**De fairness-audit kon niet worden uitgevoerd.** {facts.fairness_missing or 'Reden onbekend.'}",
            "",
            "Zonder audit is niet aangetoond dat dit model groepen niet achterstelt; dat is een beperking van "
            "deze versie (zie Beperkingen) en promoveren vraagt een verantwoording.",
            "",
        ]
        return lines
    if "attributes" not in audit:  # real data: only the served lists' exposure against the pool
        return lines + _served_section(audit.get("served"))
    found = breaches(audit)
    lines += [
        f"Gemeten op {audit.get('vacancies', '?')} toetsvacatures met hun hele kandidatenpool (de retrievalpool na "
        f"harde filters): per groep het aandeel top-10-plaatsen ÷ het aandeel in de pool. Struikeldraad: onder "
        f"{audit.get('tripwire', 0.8)} bij groepen vanaf {audit.get('minGroup', 30)} klanten. Het volledige rapport "
        f"(tabellen, grafieken) staat bij de run in `{FAIRNESS_DIR}/rapport.html`.",
        "",
        "| kenmerk | groep | klanten | verhouding [95%-interval] | route past | blootstelling ÷ verdienste | oordeel |",
        "|---|---|---|---|---|---|---|",
    ]
    for attribute, section in audit.get("attributes", {}).items():
        for group, row in section["groups"].items():
            interval = row.get("ratioCI")
            ratio = "–" if row.get("ratio") is None else f"{row['ratio']:.2f}"
            ci = f" [{interval[0]:.2f}, {interval[1]:.2f}]" if interval else ""
            suited = "–" if row.get("suitedRatio") is None else f"{row['suitedRatio']:.2f}"
            merit = "–" if row.get("exposureVsMerit") is None else f"{row['exposureVsMerit']:.2f}"
            merit += f" ({row['meritVerdict']})" if row.get("meritVerdict") else ""
            if row.get("tooSmall"):
                verdict = "te klein"
            elif any(b["attribute"] == attribute and b["group"] == group for b in found):
                verdict = "**OVERSCHRIJDING**"
            else:
                verdict = "in orde"
            lines.append(
                f"| {attribute} | {group} | {row.get('clients', '–')} | {ratio}{ci} | {suited} | {merit} | {verdict} |"
            )
    lines.append("")
    eo = {a: s.get("equalizedOddsDifference") for a, s in audit.get("attributes", {}).items()}
    lines.append(
        "Equalized-odds-verschil (fairlearn): "
        + ", ".join(f"{a} {v:.3f}" for a, v in eo.items() if v is not None)
        + "."
    )
    lines.append("")
    if found:
        lines.append(f"**Overschrijdingen ({len(found)}):** " + "; ".join(describe_breach(b) for b in found) + ".")
    else:
        lines.append("**Geen overschrijdingen** van de struikeldraad.")
    counterfactual = audit.get("counterfactual")
    if counterfactual and counterfactual.get("rbo") is not None:
        verdict = "gehaald" if counterfactual["rbo"] >= 0.9 else "**niet gehaald**"
        lines += [
            "",
            f"**Contrafeitelijke test** (gegenderde beroepswoorden omgewisseld, {counterfactual['swappedProfiles']} "
            f"profielen opnieuw ingebed): gemiddelde rank-biased overlap van de top 10 over "
            f"{counterfactual['vacancies']} vacatures {counterfactual['rbo']:.3f} (laagste "
            f"{counterfactual['min']:.3f}); norm ≥ 0,9: {verdict}.",
        ]
    lines.append("")
    return lines + _served_section(audit.get("served"))


def _figure(value: float | None, interval: list[float] | None = None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" + (f" [{interval[0]:.2f}, {interval[1]:.2f}]" if interval else "")


def _interval(interval: list[float] | None) -> str:
    return "–" if not interval else f"[{interval[0]:.2f}, {interval[1]:.2f}]"


def _percent_or_dash(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.0f} %"


def _served_section(served: dict[str, Any] | None) -> list[str]:
    """The lists as served (after the exposure re-ordering): exposure against merit per group, before and after."""
    if not served:
        return []
    method = served.get("method", {})
    lines = [
        "### Getoonde lijsten (na herordening voor blootstelling)",
        "",
        f"De lijsten zoals de dienst ze toont, in tijdsvolgorde met het blootstellingsgrootboek "
        f"(sterkte {method.get('strength')}, {_floor_words(method)}), op "
        f"{served.get('vacancies', '?')} vacatures. Blootstelling ÷ verdienste: aandeel top-10 ÷ aandeel onder "
        "wie een plaats verdiende (1 = naar verdienste), met 95%-interval (bootstrap over vacatures). Leesbaarheid: "
        "het effectieve aantal klanten dat de verdienste van de groep draagt (Kish), het 95%-interval als de klanten "
        "van de groep opnieuw getrokken worden (pools vast), hoe vaak willekeurige groepen van evenveel klanten "
        "toevallig onder 0,8 lezen, en het oordeel: voldoet (punt ≥ 0,8), onder (bovengrens klantinterval < 0,8), "
        "anders onleesbaar. Het doel en de promotiepoort lezen nog steeds de puntschatting.",
        "",
        "| kenmerk | groep | klanten | alleen relevantie | getoond | klantinterval (getoond) | effectieve klanten "
        "met verdienste | toevallig onder 0,8 | oordeel | verhouding tot pool (getoond) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    before = served.get("relevanceOnly", {})
    for attribute, section in served.get("attributes", {}).items():
        for group, row in section["groups"].items():
            old = before.get(attribute, {}).get(group, {})
            lines.append(
                f"| {attribute} | {group} | {row.get('clients', '–')} | "
                f"{_figure(old.get('exposureVsMerit'), old.get('exposureVsMeritCI'))} | "
                f"{_figure(row.get('exposureVsMerit'), row.get('exposureVsMeritCI'))} | "
                f"{_interval(row.get('exposureVsMeritClientCI'))} | {row.get('effectiveMeritClients', '–')} | "
                f"{_percent_or_dash(row.get('placeboBelow'))} | {row.get('meritVerdict') or '–'} | "
                f"{_figure(row.get('ratio'), row.get('ratioCI'))} |"
            )
    lines.append("")
    if served.get("ndcg@10Cost") is not None:
        goal = served.get("goal", {})
        below = ", ".join(goal.get("groupsBelow", [])) or "geen"
        lines += [
            f"Kosten in NDCG@10 tegenover alleen relevantie: {100 * served['ndcg@10Cost']:.1f} % "
            f"{_percent(served['ndcg@10CostCI']) if served.get('ndcg@10CostCI') else ''}; "
            f"groepen (≥ {served.get('minGroup', 30)} klanten) onder {goal.get('exposureVsMeritAtLeast', 0.8)}: "
            f"{below}.",
            "",
        ]
    else:
        lines += ["Geen verborgen geschiktheid (echte gegevens): alleen de verhouding tot de pool is gemeten.", ""]
    return lines


def _floor_words(method: dict[str, Any]) -> str:
    """Which floor ordered the served lists: the amortised floor by expected merit, or the merit floor per trede."""
    amortised = method.get("amortisedFloor")
    if not amortised:
        return f"verdienstevloer {method.get('floor')} per trede"
    groups = ", ".join(amortised.get("groups", [])).replace("geschiedenis", "ooit voorgesteld")
    return (
        f"afgeschreven vloer naar verwachte verdienste over {groups}, doel {amortised.get('target')}, "
        f"{method.get('swaps', '?')} wissels in {method.get('listsChanged', '?')} lijsten"
    )


def _percent(interval: list[float]) -> str:
    return f"[{100 * interval[0]:.1f} %, {100 * interval[1]:.1f} %]"


def _promotion_section(tags: dict[str, str]) -> list[str]:
    lines = ["## Promotie en verantwoording", ""]
    if "promoted_by" not in tags:
        lines += ["Deze versie is (nog) niet tot champion gepromoveerd.", ""]
    else:
        forced = tags.get("promotion_forced") == "true"
        lines += [
            f"- Gepromoveerd door **{tags['promoted_by']}** op {tags.get('promoted_at', '?')}"
            + (" (geforceerd: de prestatietoets werd niet gehaald)" if forced else ""),
            f"- Reden: {tags.get('promotion_reason', '–')}",
            f"- Gemeten winst in NDCG@10 tegenover de vorige champion ({tags.get('previous_champion', '?')}): "
            f"{tags.get('promotion_gain_ndcg_at_10', '–')}",
            f"- Fairnesspoort: {tags.get('fairness_gate', '–')}",
        ]
    if tags.get("fairness_justification"):
        lines += [
            "",
            f"**Verantwoording van de fairness-overschrijdingen** (vastgelegd door "
            f"{tags.get('fairness_justified_by', '?')} op {tags.get('fairness_justified_at', '?')}):",
            "",
            f"> {tags['fairness_justification']}",
            "",
            f"Overschrijdingen waarop deze verantwoording ziet: {tags.get('fairness_breaches') or '–'}",
        ]
    lines.append("")
    return lines


def render_card(facts: CardFacts) -> str:
    """The card as Markdown (Dutch)."""
    features = list(facts.features) or [f.name for f in FEATURES]
    lines = [
        *_general_section(facts),
        *_responsible_use_section(),
        *_workings_section(facts, features),
        *_performance_section(facts.metrics),
        *_fairness_section(facts),
        *_monitoring_section(),
        *_never_features_section(features),
        *_limitations_section(),
        *_promotion_section(facts.tags),
        *_provenance_section(facts),
    ]
    return "\n".join(lines)


def _general_section(facts: CardFacts) -> list[str]:
    """Title, what the card follows, and the register's *algemene informatie*."""
    created = facts.created.isoformat(timespec="seconds") if facts.created else facts.tags.get("promoted_at", "–")
    return [
        f"# Modelkaart: {facts.model} versie {facts.version}",
        "",
        "Ingericht naar de velden van de Algoritmeregister-publicatiestandaard (algemene informatie, verantwoord "
        "gebruik, werking), aangevuld met wat de technische documentatie van een hoog-risico-AI-systeem per versie "
        f"vraagt. Gegenereerd uit het MLflow-register op {datetime.now(UTC).isoformat(timespec='seconds')}.",
        "",
        "## Algemene informatie",
        "",
        "| veld | inhoud |",
        "|---|---|",
        f"| Naam | werkmatch: kandidaten en vacatures rangschikken ({facts.model}, versie {facts.version}) |",
        f"| Organisatie | {ORGANISATION} |",
        "| Korte omschrijving | Rangschikt voor een vacature de klanten met een bijstands- of WW-uitkering die "
        "erbij passen (en voor een klant de vacatures), als advies aan de werkconsulent of accountmanager. |",
        "| Type algoritme | Zelflerend: LightGBM LambdaMART (gradient-boosted beslisbomen die leren rangschikken), "
        "met monotone beperkingen per kenmerk |",
        "| Publicatiecategorie | Hoog-risico-AI-systeem (AI-verordening, bijlage III punt 4(a): werving en selectie; "
        "profilering, dus de uitzondering van art. 6(3) geldt niet) |",
        "| Thema | Werk en inkomen; sociale zekerheid (Participatiewet) |",
        f"| Status | {_status(facts.aliases)} |",
        f"| Geregistreerd | {created} |",
        "| Contact | Vul in bij publicatie: het algoritmeteam van Werk & Inkomen en de FG |",
        "",
    ]


def _responsible_use_section() -> list[str]:
    """*Verantwoord gebruik*: fixed text about the intended use, for every version."""
    return [
        "## Verantwoord gebruik",
        "",
        "### Doel en impact",
        "",
        "Doel: meer en duurzamere plaatsingen, door consulenten en accountmanagers ook de klanten te laten zien "
        "die passen maar nooit worden bekeken (het 'afromen' tegengaan) en door vacatures van het "
        "Werkgeversservicepunt en Scalabor sneller bij passende klanten te brengen. Impact: de volgorde bepaalt "
        "wie een consulent als eerste ziet. Dat raakt de kansen van klanten op werk, een werkervaringsplek of "
        "begeleiding; de uitkomst is **altijd een advies, nooit een besluit** over de klant, en nooit een besluit "
        "over rechten of plichten in de bijstand (geen sanctie, geen verlaging, geen 'passende arbeid'-oordeel).",
        "",
        "### Afwegingen (proportionaliteit en subsidiariteit)",
        "",
        "Zonder rangschikking zoekt een consulent met de hand in ~9.000 profielen, en worden steeds dezelfde "
        "kansrijke klanten voorgesteld. De rangschikker gebruikt alleen kenmerken die over de combinatie "
        "klant–vacature gaan (vaardigheden, wensen, reistijd, uren, passende plaatsingsvorm) en geen beschermde "
        "kenmerken of hun bekende proxies. Het alternatief zonder leren (een vaste gewogen score) blijft "
        "beschikbaar en wordt bij elke evaluatie meegemeten; een geleerde versie wordt alleen champion als ze "
        "aantoonbaar beter rangschikt én de fairnesspoort haalt of een overschrijding verantwoord is.",
        "",
        "### Menselijke tussenkomst",
        "",
        "De consulent beslist: die kiest uit de lijst, kan filteren (straal, trede, route, hele bestand) en ziet "
        "bij elke kandidaat de redenen in het Nederlands. Een accountmanager bereikt klanten alleen via hun "
        "consulent (warme overdracht). Suggesties die de consulent afwijst worden vastgelegd en gebruikt om te "
        "meten hoe vaak mensen van de rangschikking afwijken. Een model wordt alleen champion na een promotie "
        "door een data scientist, met naam, reden en — bij een fairness-overschrijding — een vastgelegde "
        "verantwoording.",
        "",
        "### Risicobeheer",
        "",
        "- Vaste poorten vóór promotie (prestatie: NDCG@10-winst met betrouwbaarheidsinterval; fairness: "
        "struikeldraad 0,8 per groep; contrafeitelijke gendertest RBO ≥ 0,9), vooraf vastgelegd.",
        "- Een model dat niet geladen kan worden stopt de dienst niet: de vorige versie blijft rangschikken.",
        "- Elke kandidatenlijst vermeldt welk model rangschikte; opvragingen worden geaudit.",
        "- Beperkingen (gezondheid) zijn geen kenmerk van het model, alleen een uitlegbare harde voorwaarde.",
        "",
        "### Wettelijke basis",
        "",
        "Participatiewet (taak van het college: ondersteuning bij arbeidsinschakeling) en de Wet SUWI; AVG art. "
        "6 lid 1 onder e (publieke taak). Voor beperkingen (bijzondere persoonsgegevens, AVG art. 9) en voor de "
        "audittabel met migratieachtergrond (AI-verordening art. 10 lid 5) moeten de FG en een jurist de "
        "uitzonderingsgrond bevestigen; dit veld wordt bij publicatie door hen ingevuld.",
        "",
        "### Impacttoetsen",
        "",
        "DPIA (AVG art. 35) en IAMA / grondrechteneffectbeoordeling (AI-verordening art. 27): vul bij publicatie "
        "de verwijzingen in. Deze modelkaart levert de cijfers voor de biasanalyse (Algoritmekader, 'Toets het "
        "algoritme op bias').",
        "",
    ]


def _workings_section(facts: CardFacts, features: list[str]) -> list[str]:
    """*Werking*: data and sources with this run's data facts, the features and hyperparameters."""
    tags, metrics, params = facts.tags, facts.metrics, facts.params
    hyper = ", ".join(f"{k.removeprefix('lgbm_')}={v}" for k, v in sorted(params.items()) if k.startswith("lgbm_"))
    return [
        "## Werking",
        "",
        "### Gebruikte data en bronnen",
        "",
        "Klantprofielen uit het klantvolgsysteem (vaardigheden, werkervaring, wensen, opleiding, trede, route), "
        "vacatures van WSP en Scalabor, en de vastgelegde uitkomsten van voorstellen (afgewezen, aangenomen, "
        "geplaatst, duurzaam geplaatst) plus door consulenten afgewezen suggesties. Geslacht, leeftijd en "
        "migratieachtergrond staan in een aparte audittabel die alleen de fairness-audit leest.",
        "",
        f"- Data-fingerprint (hash van de trainings- en toetsparen): `{tags.get('data_hash', '–')}`",
        f"- Toetsperiode: vacatures vanaf {tags.get('holdout_from', '–')} (nooit op getraind)",
        f"- Trainingsparen: {int(metrics['train_pairs']) if 'train_pairs' in metrics else '–'}; toetsparen: "
        f"{int(metrics['holdout_pairs']) if 'holdout_pairs' in metrics else '–'}; alleen voorstellen vanaf: "
        f"{params.get('since', '–')}",
        "",
        "### Technische werking",
        "",
        f"Per paar klant–vacature {len(features)} kenmerken, elk met een vaste richting (meer passende competenties "
        "verlaagt de score nooit, een langere reis verhoogt hem nooit): "
        + ", ".join(f"`{name}`" for name in features)
        + ". Het model ordent de kandidatenpool die de zoekfunctie na harde filters (reisafstand, uren, "
        "werktijden) vindt. Hyperparameters: " + (hyper or "–") + ".",
        "",
        *_notes_lines(features),
        *_floor_lines(params),
        "- Leverancier: eigen ontwikkeling (open source: LightGBM, scikit-learn, sentence-transformers, MLflow)",
        f"- Broncode: commit `{tags.get('git_sha', '–')}`",
        "",
    ]


def _notes_lines(features: list[str]) -> list[str]:
    """What the notes column reads and leaves out, for a model that reads it (:mod:`matching.notes_readiness`)."""
    if NOTES_FEATURE not in features:
        return []
    return [
        f"`{NOTES_FEATURE}` leest wat klant en consulent schreven (zelfbeschrijving en notities) als één getal per "
        "klant over inzet en afspraken. Gezondheid gaat er vooraf uit: zinsdelen met een gezondheidswoord en "
        "zinsdelen die een op het bestand geleerde detector herkent als geschreven over mensen met een vastgelegde "
        "beperking; daarna worden de richtingen weggeprojecteerd waarmee een lineair model klanten met en zonder "
        "vastgelegde beperking uit elkaar houdt. De beperking zelf is geen kenmerk en wordt nergens opgeslagen; de "
        "kolom is gefit op de trainingsperiode, een hogere waarde verlaagt de score nooit.",
        "",
    ]


def _floor_lines(params: dict[str, str]) -> list[str]:
    """How the lists of this model are re-ordered when shown: the amortised floor (its Platt parameters, logged by
    ``werkmatch train`` as ``floor_*``) or, for a model without them, the merit floor per trede."""
    if "floor_platt_a" not in params:
        return [
            "Getoonde lijsten: spreiding over klanten en de verdienstevloer per trede (dit model heeft geen "
            "Platt-parameters, dus geen afgeschreven vloer).",
            "",
        ]
    groups = params.get("floor_groups", "").replace("+", ", ").replace("geschiedenis", "ooit voorgesteld")
    return [
        "Getoonde lijsten: na de spreiding over klanten houdt de afgeschreven vloer naar verwachte verdienste elke "
        f"groep ({groups}) over alle getoonde lijsten samen op minstens {params.get('floor_target')} × het aandeel "
        "in de top 10 dat haar verwachte kans op een goede uitkomst rechtvaardigt (speling "
        f"{params.get('floor_slack')} plaats, hoogstens {params.get('floor_max_swaps')} wissels per lijst, alleen "
        "uit de 50 best passende). Die kans is de score van het model via Platt-schaling "
        f"(a = {params['floor_platt_a']}, b = {params.get('floor_platt_b')}, op {params.get('floor_platt_rows')} "
        "besliste voorstellen van de nieuwste 20 % van de trainingsvacatures). Beschermde kenmerken en beperkingen "
        "zijn nooit een groep; een ingewisselde kandidaat krijgt als reden dat hij voor eerlijke aandacht getoond is.",
        "",
    ]


def _performance_section(metrics: dict[str, float]) -> list[str]:
    """Holdout metrics of this model beside the fixed weighted score."""
    return [
        "## Prestaties",
        "",
        "Op de toetsperiode (gedane voorstellen; 95%-interval over vacatures):",
        "",
        "| maat | dit model | vaste gewogen score |",
        "|---|---|---|",
        f"| NDCG@10 | {_metric(metrics, 'holdout_ndcg_at_10')} | {_metric(metrics, 'holdout_weighted_ndcg_at_10')} |",
        f"| recall@20 | {_metric(metrics, 'holdout_recall_at_20')} | "
        f"{_metric(metrics, 'holdout_weighted_recall_at_20')} |",
        f"| MRR | {_metric(metrics, 'holdout_mrr')} | {_metric(metrics, 'holdout_weighted_mrr')} |",
        "",
    ]


def _monitoring_section() -> list[str]:
    """How the model is watched in use (fixed text)."""
    return [
        "## Monitoring",
        "",
        "- `werkmatch evaluate --json` meet champion en baselines opnieuw, met de fairness-audit en de "
        "contrafeitelijke test (`fairness`); het register houdt per versie de promotiegegevens bij.",
        "- De dienst controleert elke 30 s welke versie champion is; `GET /api/v1/health` toont fouten.",
        "- Fairness moet ook in gebruik gemeten worden, niet alleen vooraf (les van Amsterdam 'Slimme Check'): "
        "herhaal de audit bij elke training en periodiek op de lijsten die consulenten werkelijk zagen.",
        "",
    ]


def _never_features_section(features: list[str]) -> list[str]:
    """What is never a feature, and any beperking-derived features this version reads."""
    return [
        "## Wat nooit een kenmerk is",
        "",
        *[f"- {item}" for item in NEVER_FEATURES],
        *(
            [f"- Let op: deze versie leest wel van beperkingen afgeleide conflictkenmerken: {', '.join(derived)}"]
            if (derived := [name for name in features if name.startswith("belasting")])
            else []
        ),
        "",
    ]


def _limitations_section() -> list[str]:
    """*Beperkingen* of every version (fixed text)."""
    return [
        "## Beperkingen",
        "",
        "- De uitkomsten waarvan het model leert bevatten de keuzes van consulenten en werkgevers, met hun "
        "vooroordelen; het model kan die overnemen. De audit meet daarom tegen verdienste, niet tegen uitkomsten.",
        "- Op echte gegevens is alleen te toetsen op de voorstellen die gedaan zijn (ongeveer vijf per vacature); "
        "de metingen op hele kandidatenpools bestaan alleen op synthetische gegevens.",
        "- De trede en route zijn een momentopname van de diagnose; het model kan niet zien wat sindsdien veranderde.",
        "- Geen beschermd kenmerk is een invoer, maar proxies blijven mogelijk (reistijd hangt samen met woonwijk, "
        "taalniveau met herkomst); de audit is bedoeld om dat te vinden.",
        "- Niet bedoeld voor: besluiten over uitkering, sancties of 'passende arbeid'; werving buiten de gemeente; "
        "rangschikken zonder consulent.",
        "",
    ]


def _provenance_section(facts: CardFacts) -> list[str]:
    """*Herkomst*: run, trainer, aliases, seed and holdout share."""
    tags, params = facts.tags, facts.params
    return [
        "## Herkomst",
        "",
        f"- MLflow-run: `{facts.run_id or '–'}`; getraind door: {tags.get('trained_by', '–')}",
        f"- Aliassen nu: {', '.join(facts.aliases) or 'geen'}",
        f"- Seed: {params.get('seed', '–')}; aandeel toets: {params.get('holdout_share', '–')}",
        "",
    ]


def _version(settings: Settings, version: str) -> Any:
    from mlflow.exceptions import MlflowException  # mlflow is heavy: only card and report commands pay for it

    if not registry.has_store(settings):
        raise NotFoundError(f"versie {version} bestaat niet: er is nog geen modelregister (werkmatch train)")
    tracking = registry.client(settings)
    try:
        return tracking, tracking.get_model_version(settings.ranker.registered_model, version)
    except MlflowException:
        raise NotFoundError(
            f"versie {version} van {settings.ranker.registered_model} bestaat niet; zie werkmatch models list"
        ) from None


def read_fairness(settings: Settings, version: str) -> tuple[dict[str, Any] | None, str | None]:
    """The fairness audit saved with a version's run, or (None, why not)."""
    tracking, found = _version(settings, version)
    if not found.run_id:
        return None, "deze versie heeft geen trainingsrun in het register"
    with tempfile.TemporaryDirectory() as scratch:
        try:
            path = tracking.download_artifacts(found.run_id, f"{FAIRNESS_DIR}/{RAW}", scratch)
        except Exception:  # noqa: BLE001 - MLflow raises several types for a missing artifact
            return None, "bij deze run is geen fairness-audit opgeslagen (getraind voordat de audit bestond)"
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    if raw.get("available") is False:
        return None, raw.get("reason") or "de audit kon niet worden uitgevoerd"
    return raw, None


def download_report(settings: Settings, version: str, target: Path) -> Path:
    """Copy the run's ``fairness/`` folder (rapport.html, plots, fairness.json) to ``target``."""
    tracking, found = _version(settings, version)
    if not found.run_id:
        raise NotFoundError(f"versie {version} heeft geen trainingsrun in het register")
    target.mkdir(parents=True, exist_ok=True)
    try:
        return Path(tracking.download_artifacts(found.run_id, FAIRNESS_DIR, str(target)))
    except Exception:  # noqa: BLE001 - MLflow raises several types for a missing artifact
        raise NotFoundError(
            f"bij versie {version} is geen fairnessrapport opgeslagen (getraind voordat de audit bestond)"
        ) from None


def card_facts(settings: Settings, version: str) -> CardFacts:
    """Gather what the card states from the registry: the version, its run and its fairness audit."""
    tracking, found = _version(settings, version)
    aliases = next((v.aliases for v in registry.versions(settings) if v.version == str(version)), ())
    run = tracking.get_run(found.run_id) if found.run_id else None
    fairness, missing = read_fairness(settings, version)
    features: tuple[str, ...] = ()
    if found.run_id:
        with tempfile.TemporaryDirectory() as scratch:
            try:
                listed = json.loads(
                    Path(tracking.download_artifacts(found.run_id, "feature_list.json", scratch)).read_text()
                )
                features = tuple(item["name"] for item in listed["features"])
            except Exception:  # noqa: BLE001 - an older run without the list: the code's list is shown
                features = ()
    return CardFacts(
        model=settings.ranker.registered_model,
        version=str(found.version),
        aliases=tuple(aliases),
        run_id=found.run_id,
        created=datetime.fromtimestamp((found.creation_timestamp or 0) / 1000, UTC),
        params=dict(run.data.params) if run else {},
        metrics=dict(run.data.metrics) if run else {},
        tags={**(dict(run.data.tags) if run else {}), **dict(found.tags or {})},
        fairness=fairness,
        fairness_missing=missing,
        features=features,
    )


def card_for_version(settings: Settings, version: str) -> str:
    """The current card of one registered version (its promotion tags included)."""
    return render_card(card_facts(settings, version))
