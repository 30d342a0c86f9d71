"""The fairness audit as a person reads it: an HTML page with tables per group, PNG plots, the raw JSON.

Input is the audit of one ranker (:func:`training.fairness.audit_ranking`, optionally with the
counterfactual test of :mod:`training.counterfactual` under ``"counterfactual"``), or None when the
audit could not run (then the report says why). Output, in one folder (saved with the MLflow run as
``fairness/``):

* ``rapport.html``: Dutch headings, a summary, the breaches in words, per attribute a table (clients,
  pool share, top-10 share, ratio with its 95 % interval, the same against the route-suited pool,
  merit share and exposure ÷ merit, selection rate / TPR / FPR, a verdict in words) and fairlearn's
  equalized-odds difference; then the counterfactual test and how to read it all;
* ``ratio-<attribuut>.png``: the ratio per group with its interval, the 0.8 line, breaches hatched
  and labelled (never colour alone);
* ``blootstelling-<attribuut>.png``: exposure ÷ merit per group;
* ``fairness.json``: the audit as computed.

**What a breach is** (:func:`breaches`, the promotion gate's input): a group of at least
:data:`training.fairness.MIN_GROUP` clients whose *point* ratio (top-10 share ÷ share of the
retrieval pool) is under :data:`training.fairness.TRIPWIRE`. Not "the whole interval under 0.8": the
tripwire only asks a person to look and justify, so missing a real disadvantage costs more than a
justification too many, and a significance rule would let exactly the small, noisy groups (clients in
trede 0, with a beperking) through. The interval says how sure the breach is: ``certain`` when its
upper end is under 0.8 too, else the report calls it "onzeker" — still a breach.

**Which pool** ("eligible"): the retrieval pool, everyone the search ranks after the hard filters
(travel, hours, working times) — the people a consulent could be shown. A second figure,
``suitedRatio``, compares with only the clients whose route suits the vacancy's plaatsingsvorm; it
shows how much of a trede gap the ladder itself explains, and belongs in a justification, but the
tripwire does not use it: the route is a snapshot diagnosis (DOMAIN.md, problem 5), and a ranker that
never shows someone on the Meedoen route a step up repeats the afromen the service must fix.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from training.fairness import MIN_GROUP, TRIPWIRE

REPORT = "rapport.html"
RAW = "fairness.json"
ATTRIBUTE_LABELS = {
    "geslacht": "Geslacht",
    "leeftijd": "Leeftijd",
    "migratieachtergrond": "Migratieachtergrond (alleen uit de audittabel, nooit een kenmerk)",
    "trede": "Trede op de participatieladder",
    "beperking": "Beperking vastgelegd",
    "route": "Route (werk, perspectief, meedoen)",
    "geschiedenis": "Eerder voorgesteld voor een andere vacature (wie nooit werd voorgesteld: afromen)",
}


def breaches(fairness: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The groups over the tripwire in one audit: point ratio under 0.8, group not too small.

    Returns one dict per breach: ``attribute``, ``group``, ``ratio``, ``ratioCI``, ``clients`` and
    ``certain`` (the interval's upper end is under the tripwire too). Empty for None (no audit).
    """
    if not fairness:
        return []
    tripwire = float(fairness.get("tripwire", TRIPWIRE))
    minimum = int(fairness.get("minGroup", MIN_GROUP))
    found = []
    for attribute, section in fairness.get("attributes", {}).items():
        for group, row in section["groups"].items():
            ratio = row.get("ratio")
            if ratio is None or row.get("clients", 0) < minimum or ratio >= tripwire:
                continue
            interval = row.get("ratioCI")
            found.append(
                {
                    "attribute": attribute,
                    "group": group,
                    "ratio": ratio,
                    "ratioCI": interval,
                    "clients": row.get("clients"),
                    "certain": bool(interval and interval[1] < tripwire),
                }
            )
    return found


READABILITY = ("exposureVsMeritClientCI", "effectiveMeritClients", "placeboBelow", "meritVerdict")
"""How readable a served group's figure is (:mod:`training.fairness_readability`): carried into its breach, shown."""


def merit_breaches(served: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The groups of the served lists (:func:`training.exposure_eval.served_fairness`) that get under
    0.8 of the top-10 share they merit (``exposureVsMerit``), group not too small; as :func:`breaches`,
    with ``measure`` naming the figure. Empty without merit (real data) or without a served audit."""
    if not served:
        return []
    minimum = int(served.get("minGroup", MIN_GROUP))
    found = []
    for attribute, section in served.get("attributes", {}).items():
        for group, row in section["groups"].items():
            value, interval = row.get("exposureVsMerit"), row.get("exposureVsMeritCI")
            if value is None or row.get("clients", 0) < minimum or value >= TRIPWIRE:
                continue
            found.append(
                {
                    "attribute": attribute,
                    "group": group,
                    "ratio": value,
                    "ratioCI": interval,
                    "clients": row.get("clients"),
                    "certain": bool(interval and interval[1] < TRIPWIRE),
                    "measure": "blootstelling ÷ verdienste",
                    **{key: row[key] for key in READABILITY if row.get(key) is not None},
                }
            )
    return found


def describe_breach(breach: dict[str, Any]) -> str:
    """One Dutch line: ``trede=0: 0.04 [0.02, 0.07] (zeker onder 0.8)``, the figure named when it is not
    the pool ratio."""
    interval = breach.get("ratioCI")
    ci = f" [{interval[0]:.2f}, {interval[1]:.2f}]" if interval else ""
    sure = "zeker onder" if breach.get("certain") else "onzeker: het interval reikt tot boven"
    measure = f" {breach['measure']}" if breach.get("measure") else ""
    line = f"{breach['attribute']}={breach['group']}:{measure} {breach['ratio']:.2f}{ci} ({sure} {TRIPWIRE})"
    if breach.get("meritVerdict"):  # shown only: the gate still reads the point estimate
        clients = breach.get("exposureVsMeritClientCI")
        line += f"; oordeel {breach['meritVerdict']}" + (
            f", klantinterval [{clients[0]:.2f}, {clients[1]:.2f}]" if clients else ""
        )
        if breach.get("effectiveMeritClients") is not None:
            line += f", {breach['effectiveMeritClients']} effectieve klanten met verdienste"
        if breach.get("placeboBelow") is not None:
            line += f", {100 * breach['placeboBelow']:.0f} % van willekeurige groepen even groot leest onder {TRIPWIRE}"
    return line


def _number(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, list):
        return f"[{value[0]:.{digits}f}, {value[1]:.{digits}f}]"
    return f"{value:.{digits}f}".replace(".", ",")


def _verdict(row: dict[str, Any], tripwire: float, minimum: int) -> str:
    if row.get("clients", 0) < minimum:
        return f"te klein (minder dan {minimum} klanten): alleen gemeld"
    ratio, interval = row.get("ratio"), row.get("ratioCI")
    if ratio is None:
        return "niet in de pools"
    if ratio < tripwire:
        if interval and interval[1] < tripwire:
            return f"OVERSCHRIJDING: verhouding onder {tripwire} (zeker: hele interval eronder)"
        return f"OVERSCHRIJDING: verhouding onder {tripwire} (onzeker: interval reikt erboven)"
    return "in orde"


def _plot_ratio(attribute: str, groups: dict[str, Any], tripwire: float, minimum: int, target: Path) -> None:
    import matplotlib  # lazy: heavy to import, and only a fairness report draws

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [name for name, row in groups.items() if row.get("ratio") is not None]
    figure, axis = plt.subplots(figsize=(7, 0.5 * len(names) + 1.6))
    for position, name in enumerate(names):
        row = groups[name]
        ratio, interval = row["ratio"], row.get("ratioCI")
        small = row.get("clients", 0) < minimum
        breach = ratio < tripwire and not small
        axis.barh(
            position,
            ratio,
            color="#c0392b" if breach else ("#bbbbbb" if small else "#2e86c1"),
            hatch="//" if breach else ("..." if small else None),
            edgecolor="black",
        )
        if interval:
            axis.errorbar(
                ratio,
                position,
                xerr=[[ratio - interval[0]], [interval[1] - ratio]],
                fmt="none",
                ecolor="black",
                capsize=3,
            )
        label = f"{ratio:.2f}" + ("  OVERSCHRIJDING" if breach else "  te klein" if small else "")
        axis.text(max(ratio, interval[1] if interval else ratio) + 0.03, position, label, va="center", fontsize=8)
    axis.axvline(tripwire, color="black", linestyle="--", linewidth=1)
    axis.text(tripwire, len(names) - 0.4, f" grens {tripwire}", fontsize=8)
    axis.set_yticks(range(len(names)), names)
    axis.invert_yaxis()
    axis.set_xlabel("aandeel top-10 ÷ aandeel pool (95%-interval)")
    axis.set_title(f"{ATTRIBUTE_LABELS.get(attribute, attribute).split(' (')[0]}: wie krijgt de top-10-plaatsen")
    axis.set_xlim(0, max([1.6, *(groups[n]["ratio"] + 0.5 for n in names)]))
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    plt.close(figure)


def _plot_merit(attribute: str, groups: dict[str, Any], target: Path) -> None:
    import matplotlib  # lazy: heavy to import, and only a fairness report draws

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(groups)
    values = [groups[name].get("exposureVsMerit") for name in names]
    figure, axis = plt.subplots(figsize=(7, 0.5 * len(names) + 1.6))
    for position, value in enumerate(values):
        if value is None:
            axis.text(0.02, position, "geen verdienden in de pools", va="center", fontsize=8)
            continue
        axis.barh(position, value, color="#7d3c98", edgecolor="black", hatch="//" if value < TRIPWIRE else None)
        axis.text(value + 0.03, position, f"{value:.2f}", va="center", fontsize=8)
    axis.axvline(1.0, color="black", linestyle=":", linewidth=1)
    axis.set_yticks(range(len(names)), names)
    axis.invert_yaxis()
    axis.set_xlabel("aandeel top-10 ÷ aandeel van wie een plaats verdiende (1 = naar verdienste)")
    axis.set_title(f"{ATTRIBUTE_LABELS.get(attribute, attribute).split(' (')[0]}: blootstelling tegen verdienste")
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    plt.close(figure)


HEADERS = (
    "Groep",
    "Klanten",
    "Aandeel pool",
    "Aandeel top-10",
    "Verhouding",
    "95%-interval",
    "Verhouding (route past)",
    "Aandeel verdienden",
    "Blootstelling ÷ verdienste",
    "Selectiekans",
    "TPR",
    "FPR",
    "Oordeel",
)


def _table(groups: dict[str, Any], tripwire: float, minimum: int) -> str:
    rows = []
    for name, row in groups.items():
        cells = [
            html.escape(str(name)),
            str(row.get("clients", "–")),
            _number(row.get("poolShare"), 3),
            _number(row.get("top10Share"), 3),
            f"<strong>{_number(row.get('ratio'))}</strong>",
            _number(row.get("ratioCI")),
            _number(row.get("suitedRatio")),
            _number(row.get("meritShare"), 3),
            _number(row.get("exposureVsMerit")),
            _number(row.get("selectionRate"), 3),
            _number(row.get("truePositiveRate"), 3),
            _number(row.get("falsePositiveRate"), 3),
            html.escape(_verdict(row, tripwire, minimum)),
        ]
        marker = ' class="overschrijding"' if "OVERSCHRIJDING" in cells[-1] else ""
        rows.append(f"<tr{marker}>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    head = "".join(f"<th>{html.escape(text)}</th>" for text in HEADERS)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


STYLE = """
body { font-family: sans-serif; max-width: 75em; margin: 2em auto; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #999; padding: 0.25em 0.5em; text-align: right; }
td:first-child, td:last-child, th { text-align: left; }
tr.overschrijding { background: #fde2e0; font-weight: bold; }
.waarschuwing { border-left: 4px solid #c0392b; padding-left: 1em; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.3em 0; }
"""

METHOD = f"""
<h2>Zo lees je dit rapport</h2>
<ul>
<li><strong>Verhouding</strong> = aandeel van de groep in alle top-10-plaatsen ÷ aandeel van de groep
in de kandidatenpools (iedereen die de zoekfunctie na de harde filters — reisafstand, uren, werktijden —
rangschikt). Het interval is een bootstrap over vacatures (hele kandidatenlijsten opnieuw getrokken).</li>
<li><strong>Overschrijding</strong>: verhouding onder {TRIPWIRE} bij een groep van minstens {MIN_GROUP}
klanten. Dit is een <em>struikeldraad</em> (de vier-vijfde-vuistregel), geen wettelijke norm: een
overschrijding vraagt dat een data scientist kijkt en een verantwoording vastlegt (Algoritmekader,
maatregel 'Toets het algoritme op bias': rechtvaardigingstoets). "Zeker" betekent dat het hele
interval onder de grens ligt; "onzeker" is óók een overschrijding, maar kan ruis zijn.</li>
<li><strong>Verhouding (route past)</strong>: hetzelfde, maar vergeleken met alleen de klanten voor wie de
plaatsingsvorm van de vacature binnen de band van hun route valt. Het verschil met de gewone verhouding
laat zien hoeveel van een tredeverschil de ladder zelf verklaart. De struikeldraad gebruikt het niet.</li>
<li><strong>Blootstelling ÷ verdienste</strong>: aandeel in de top-10 ÷ aandeel onder wie een plaats
verdiende (synthetisch: het beste vijfde van elke pool naar de verborgen geschiktheid; uitkomsten bevatten
de gesimuleerde discriminatie van werkgevers en zijn daarom geen maat voor verdienste). Onder 1: de groep
krijgt minder plaatsen dan haar geschiktheid rechtvaardigt.</li>
<li><strong>Selectiekans, TPR, FPR</strong> (fairlearn <code>MetricFrame</code>): 'in de top 10' als
voorspelling, verdienste als waarheid. <strong>Equalized-odds-verschil</strong>: het grootste verschil
in TPR of FPR tussen groepen.</li>
<li>Groepen onder {MIN_GROUP} klanten zijn te klein voor een oordeel en worden alleen gemeld.</li>
</ul>
"""


def _counterfactual(result: dict[str, Any] | None) -> str:
    if not result:
        return "<h2>Contrafeitelijke test</h2><p>Niet uitgevoerd.</p>"
    if result.get("rbo") is None:
        return (
            "<h2>Contrafeitelijke test</h2><p>Geen profiel bevatte een gegenderd beroepswoord; er viel niets "
            "te vergelijken.</p>"
        )
    passed = result["rbo"] >= 0.9
    verdict = "gehaald" if passed else "NIET GEHAALD"
    return f"""
<h2>Contrafeitelijke test: mannelijke en vrouwelijke beroepswoorden</h2>
<p>In alle profielteksten zijn gegenderde beroepswoorden omgewisseld (schoonmaakster ↔ schoonmaker,
verpleegster ↔ verpleegkundige, medewerkster ↔ medewerker, …); de gewijzigde profielen zijn opnieuw
ingebed met het echte model. Per vacature is de top 10 vóór en na vergeleken met rank-biased overlap
(RBO, p = {result.get("p", 0.9)}; 1 = dezelfde lijst in dezelfde volgorde).</p>
<table><tbody>
<tr><td>Gewijzigde profielen in de pools</td><td>{result["swappedProfiles"]}</td></tr>
<tr><td>Vacatures met een gewijzigd profiel in de pool</td><td>{result["vacancies"]}</td></tr>
<tr><td>Top-10 niet identiek</td><td>{result.get("changedTop10", "–")}</td></tr>
<tr><td>Gemiddelde RBO</td><td><strong>{_number(result["rbo"], 3)}</strong></td></tr>
<tr><td>Laagste RBO</td><td>{_number(result["min"], 3)}</td></tr>
<tr><td>Oordeel (gemiddelde ≥ 0,9)</td><td><strong>{verdict}</strong></td></tr>
</tbody></table>
"""


def _served(served: dict[str, Any] | None) -> str:
    """The lists as served (after the exposure re-ordering): exposure ÷ merit per group, before and after."""
    if not served:
        return ""
    before = served.get("relevanceOnly", {})
    rows = []
    for attribute, section in served.get("attributes", {}).items():
        for group, row in section["groups"].items():
            old = before.get(attribute, {}).get(group, {})
            cells = [
                html.escape(f"{attribute}={group}"),
                str(row.get("clients", "–")),
                f"{_number(old.get('exposureVsMerit'))} {_number(old.get('exposureVsMeritCI'))}",
                f"<strong>{_number(row.get('exposureVsMerit'))}</strong> {_number(row.get('exposureVsMeritCI'))}",
                _number(row.get("exposureVsMeritClientCI")),
                _number(row.get("effectiveMeritClients"), 1),
                _number(row.get("placeboBelow")),
                html.escape(str(row.get("meritVerdict") or "–")),
                f"{_number(row.get('ratio'))} {_number(row.get('ratioCI'))}",
            ]
            rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    cost = served.get("ndcg@10Cost")
    cost_text = (
        f"<p>Kosten in NDCG@10 tegenover alleen relevantie: {_number(100 * cost, 1)} %.</p>" if cost is not None else ""
    )
    head = "".join(
        f"<th>{text}</th>"
        for text in (
            "Groep",
            "Klanten",
            "Alleen relevantie",
            "Getoond",
            "Klantinterval",
            "Effectieve klanten met verdienste",
            "Toevallig onder 0,8",
            "Oordeel",
            "Getoond: verhouding tot pool",
        )
    )
    return (
        "<h2>Getoonde lijsten (na herordening voor blootstelling)</h2><p>Blootstelling ÷ verdienste met 95%-interval, "
        "de lijsten in tijdsvolgorde zoals de dienst ze toont. Klantinterval: de klanten van de groep opnieuw "
        "getrokken (pools vast); toevallig onder 0,8: aandeel willekeurige groepen van evenveel klanten dat onder "
        "0,8 leest; oordeel: voldoet (punt ≥ 0,8), onder (bovengrens klantinterval &lt; 0,8), anders onleesbaar. "
        "Het doel leest de puntschatting.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{cost_text}"
    )


def _write_atomic(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    Path(handle.name).replace(path)


def render_report(
    fairness: dict[str, Any] | None,
    target: Path,
    *,
    title: str,
    missing_reason: str | None = None,
) -> Path:
    """Write ``rapport.html``, the PNG plots and ``fairness.json`` into ``target``; returns the HTML's path.

    Args:
        fairness: one ranker's audit (with ``counterfactual`` when that test ran), or None.
        title: what was audited, e.g. "werkmatch-ranker versie 3".
        missing_reason: why there is no audit (shown instead of the tables).
    """
    target.mkdir(parents=True, exist_ok=True)
    raw = fairness if fairness is not None else {"available": False, "reason": missing_reason}
    _write_atomic(target / RAW, json.dumps(raw, indent=2, ensure_ascii=False) + "\n")
    parts = [
        f"<!DOCTYPE html><html lang='nl'><head><meta charset='utf-8'><title>Fairness-audit: {html.escape(title)}"
        f"</title><style>{STYLE}</style></head><body>",
        f"<h1>Fairness-audit: {html.escape(title)}</h1>",
    ]
    if fairness is None:
        parts.append(
            "<p class='waarschuwing'><strong>De audit kon niet worden uitgevoerd.</strong> "
            f"{html.escape(missing_reason or 'Reden onbekend.')}</p>"
            "<p>Zonder audit is niet bekend of dit model groepen achterstelt. Promoveren vraagt dan een "
            "verantwoording, en de modelkaart vermeldt dit als beperking.</p>"
        )
        _write_atomic(target / REPORT, "".join(parts) + "</body></html>\n")
        return target / REPORT
    tripwire, minimum = float(fairness.get("tripwire", TRIPWIRE)), int(fairness.get("minGroup", MIN_GROUP))
    found = breaches(fairness)
    parts.append("<h2>Samenvatting</h2>")
    parts.append(
        f"<p>{fairness.get('vacancies', '?')} toetsvacatures met hun hele kandidatenpool; per vacature de top "
        f"{fairness.get('k', 10)}. Struikeldraad: verhouding onder {tripwire} (groepen vanaf {minimum} klanten).</p>"
    )
    if found:
        items = "".join(f"<li>{html.escape(describe_breach(b))}</li>" for b in found)
        parts.append(
            f"<div class='waarschuwing'><p><strong>{len(found)} overschrijding(en) van de struikeldraad.</strong> "
            "Promoveren tot champion vraagt een vastgelegde verantwoording van een data scientist.</p>"
            f"<ul>{items}</ul></div>"
        )
    else:
        parts.append("<p><strong>Geen overschrijdingen</strong> van de struikeldraad.</p>")
    parts.append(_served(fairness.get("served")))
    parts.append(_counterfactual(fairness.get("counterfactual")))
    for attribute, section in fairness.get("attributes", {}).items():
        groups = section["groups"]
        parts.append(f"<h2>{html.escape(ATTRIBUTE_LABELS.get(attribute, attribute))}</h2>")
        parts.append(_table(groups, tripwire, minimum))
        parts.append(
            f"<p>Equalized-odds-verschil (fairlearn): <strong>{_number(section.get('equalizedOddsDifference'), 3)}"
            "</strong></p>"
        )
        ratio_png, merit_png = f"ratio-{attribute}.png", f"blootstelling-{attribute}.png"
        _plot_ratio(attribute, groups, tripwire, minimum, target / ratio_png)
        _plot_merit(attribute, groups, target / merit_png)
        parts.append(
            f"<img src='{ratio_png}' alt='Verhouding top-10 tegen pool per groep van {html.escape(attribute)}, "
            f"met interval en de grens {tripwire}'>"
            f"<img src='{merit_png}' alt='Blootstelling tegen verdienste per groep van {html.escape(attribute)}'>"
        )
    parts.append(METHOD)
    _write_atomic(target / REPORT, "".join(parts) + "</body></html>\n")
    return target / REPORT
