"""Small pictures as inline SVG, drawn on the server: no chart library, no script.

Every picture has a ``<title>`` and ``<desc>`` (``role="img"``, ``aria-labelledby``) and the page
shows the same numbers as text or a table next to it, so nobody depends on seeing it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from api.services.oversight import NOT_SHOWN
from api.web.formats import getal, km

INK = "#1a1a1a"
ACCENT = "#00567a"  # 7.5:1 on white
NEGATIVE = "#a3301a"
GRID = "#8a8a8a"


def _svg(width: int, height: int, ident: str, title: str, desc: str, body: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{ident}-t {ident}-d" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" class="chart">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>{body}</svg>'
    )


def distance_plot(results: Sequence[dict[str, Any]], label_key: str = "klantId") -> Markup:
    """Each candidate as a dot on a line from 0 km to the farthest, labelled with its rank.

    Args:
        results: Candidate list items with ``rang`` and ``afstandKm``.
        label_key: Shown in each dot's tooltip (the klantnummer or the pseudonym).
    """
    items = [item for item in results if item.get("afstandKm") is not None]
    if not items:
        return Markup("")
    far = max(max(float(item["afstandKm"]) for item in items), 1.0)
    width, left, right, row = 640, 40, 20, 18
    height = 40 + row * len(items)
    span = width - left - right
    parts = [f'<line x1="{left}" y1="24" x2="{left + span}" y2="24" stroke="{GRID}"/>']
    for tick in range(5):
        km_text = getal(far * tick / 4, 0 if far >= 10 else 1)
        x = left + span * tick / 4
        parts.append(
            f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="{height - 6}" stroke="{GRID}" stroke-dasharray="2 3"/>'
            f'<text x="{x:.1f}" y="14" font-size="12" text-anchor="middle" fill="{INK}">{km_text} km</text>'
        )
    for index, item in enumerate(items):
        distance = float(item["afstandKm"])
        x = left + span * distance / far
        y = 40 + row * index
        label = escape(f"{item.get(label_key, '')}: {km(distance)}")
        parts.append(
            f'<text x="4" y="{y + 4}" font-size="12" fill="{INK}">#{int(item["rang"])}</text>'
            f'<circle cx="{x:.1f}" cy="{y}" r="6" fill="{ACCENT}"><title>{label}</title></circle>'
        )
    desc = "; ".join(f"nummer {int(item['rang'])} op {km(float(item['afstandKm']))}" for item in items)
    return _svg(width, height, "afstand", "Afstand van de kandidaten tot de vacature", desc, "".join(parts))


def funnel(rows: Sequence[dict[str, Any]]) -> Markup:
    """Per source, bars for voorgesteld → geplaatst → duurzaam (counts), each labelled with its number."""
    if not rows:
        return Markup("")
    stages = (("voorgesteld", "voorgesteld"), ("geplaatst", "geplaatst"), ("duurzaam", "duurzaam"))
    most = max(max(int(row[key]) for key, _ in stages) for row in rows) or 1
    width, label_w, bar_h = 560, 110, 16
    block = bar_h * len(stages) + 18
    height = block * len(rows)
    shades = ("#00567a", "#2f7d4f", "#6b4c9a")
    parts = []
    for index, row in enumerate(rows):
        top = block * index
        parts.append(
            f'<text x="0" y="{top + 14}" font-size="12" font-weight="bold" fill="{INK}">{escape(row["bron"])}</text>'
        )
        for step, (key, label) in enumerate(stages):
            value = int(row[key])
            size = (width - label_w - 60) * value / most
            y = top + 18 + step * bar_h
            parts.append(
                f'<text x="10" y="{y + 12}" font-size="12" fill="{INK}">{label}</text>'
                f'<rect x="{label_w}" y="{y + 2}" width="{max(size, 1):.1f}" height="{bar_h - 4}" '
                f'fill="{shades[step]}"/>'
                f'<text x="{label_w + size + 4:.1f}" y="{y + 12}" font-size="12" fill="{INK}">{value}</text>'
            )
    desc = "; ".join(
        f"{row['bron']}: {row['voorgesteld']} voorgesteld, {row['geplaatst']} geplaatst, {row['duurzaam']} duurzaam"
        for row in rows
    )
    return _svg(width, height, "trechter", "Van voorstel tot duurzame plaatsing, per bron", desc, "".join(parts))


def area_map(points: Sequence[dict[str, Any]], centre_label: str) -> Markup:
    """A plain "map": the vacancy in the centre, each candidate by direction and distance (north up).

    No tiles and no outside requests: rings at half and at the full radius, a north arrow, one dot per
    candidate labelled with its rank. The page lists the same directions and distances as text.

    Args:
        points: From :func:`api.web.shortlist.map_points` (``rank``, ``east``, ``north`` in km, ``km``,
            ``richting``, ``label``).
        centre_label: What the centre is (the vacaturenummer).
    """
    if not points:
        return Markup("")
    size, margin = 360, 34
    middle = size / 2
    reach = max(max(math.hypot(p["east"], p["north"]) for p in points), 1.0)
    scale = (middle - margin) / reach
    parts = []
    for share in (0.5, 1.0):
        radius = (middle - margin) * share
        parts.append(
            f'<circle cx="{middle}" cy="{middle}" r="{radius:.1f}" fill="none" stroke="{GRID}" stroke-dasharray="3 3"/>'
            f'<text x="{middle + 3}" y="{middle - radius - 3:.1f}" font-size="12" fill="{INK}">'
            f"{km(reach * share)}</text>"
        )
    parts.append(
        f'<text x="{size - 18}" y="18" font-size="12" font-weight="bold" fill="{INK}">N</text>'
        f'<line x1="{size - 14}" y1="40" x2="{size - 14}" y2="22" stroke="{INK}" stroke-width="2"/>'
        f'<rect x="{middle - 6}" y="{middle - 6}" width="12" height="12" fill="{NEGATIVE}">'
        f"<title>{escape(centre_label)}: de vacature</title></rect>"
    )
    for point in points:
        x = middle + point["east"] * scale
        y = middle - point["north"] * scale
        label = escape(f"#{point['rank']} {point['label']}: {km(point['km'])}, {point['richting']}")
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{ACCENT}"><title>{label}</title></circle>'
            f'<text x="{x + 9:.1f}" y="{y + 4:.1f}" font-size="12" fill="{INK}">#{point["rank"]}</text>'
        )
    desc = "; ".join(f"nummer {p['rank']}: {km(p['km'])} {p['richting']}" for p in points)
    return _svg(
        size, size, "kaart", f"Waar de eigen kandidaten wonen, gezien vanaf {centre_label}", desc, "".join(parts)
    )


def rank_bars(series: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> Markup:
    """Grouped bars: per rank bucket (``1``, ``2-3``, …) the share of each series (voorstellen, afwijzingen).

    Args:
        series: ``(name, buckets)`` pairs; a bucket has ``rang``, ``aantal`` and ``aandeel`` (0-1 or None).
    """
    if not series or not series[0][1]:
        return Markup("")
    buckets = [bucket["rang"] for bucket in series[0][1]]
    width, label_w, bar_h = 560, 150, 14
    block = bar_h * len(series) + 12
    height = block * len(buckets) + 24
    shades = (ACCENT, "#6b4c9a")
    span = width - label_w - 70
    parts = []
    for index, (name, _) in enumerate(series):
        x = label_w + index * 150
        parts.append(
            f'<rect x="{x}" y="2" width="12" height="12" fill="{shades[index % 2]}"/>'
            f'<text x="{x + 16}" y="12" font-size="12" fill="{INK}">{escape(name)}</text>'
        )
    for row, bucket in enumerate(buckets):
        top = 24 + block * row
        label = "niet getoond" if bucket == NOT_SHOWN else f"eigen rang {bucket}"
        parts.append(f'<text x="0" y="{top + bar_h}" font-size="12" fill="{INK}">{escape(label)}</text>')
        for index, (_, rows) in enumerate(series):
            found = next((item for item in rows if item["rang"] == bucket), None)
            share = float(found["aandeel"] or 0.0) if found else 0.0
            count = int(found["aantal"]) if found else 0
            y = top + index * bar_h
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{max(span * share, 1):.1f}" height="{bar_h - 2}" '
                f'fill="{shades[index % 2]}"/>'
                f'<text x="{label_w + span * share + 4:.1f}" y="{y + 11}" font-size="12" fill="{INK}">'
                f"{round(share * 100)} % ({count})</text>"
            )
    desc = "; ".join(f"{name}, eigen rang {item['rang']}: {item['aantal']}" for name, rows in series for item in rows)
    return _svg(
        width,
        height,
        "rangen",
        "Plaats in de eigen rangorde van voorgestelde en afgewezen kandidaten",
        desc,
        "".join(parts),
    )
