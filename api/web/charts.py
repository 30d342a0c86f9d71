"""Small pictures as inline SVG, drawn on the server: no chart library, no script.

Every picture has a ``<title>`` and ``<desc>`` (``role="img"``, ``aria-labelledby``) and the page
shows the same numbers as text or a table next to it, so nobody depends on seeing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

INK = "#1a1a1a"
ACCENT = "#00567a"  # 7.5:1 on white
POSITIVE = "#1d6b2f"
NEGATIVE = "#a3301a"
GRID = "#8a8a8a"


def _svg(width: int, height: int, ident: str, title: str, desc: str, body: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{ident}-t {ident}-d" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" class="chart">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>{body}</svg>'
    )


def distance_plot(results: Sequence[dict[str, Any]], label_key: str = "clientId") -> Markup:
    """Each candidate as a dot on a line from 0 km to the farthest, labelled with its rank.

    Args:
        results: Candidate list items with ``rank`` and ``afstandKm``.
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
        km = far * tick / 4
        km_text = f"{km:.0f}" if far >= 10 else f"{km:.1f}".replace(".", ",")
        x = left + span * tick / 4
        parts.append(
            f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="{height - 6}" stroke="{GRID}" stroke-dasharray="2 3"/>'
            f'<text x="{x:.1f}" y="14" font-size="11" text-anchor="middle" fill="{INK}">{km_text} km</text>'
        )
    for index, item in enumerate(items):
        km = float(item["afstandKm"])
        x = left + span * km / far
        y = 40 + row * index
        label = escape(f"{item.get(label_key, '')}: {km:.1f} km")
        parts.append(
            f'<text x="4" y="{y + 4}" font-size="11" fill="{INK}">#{int(item["rank"])}</text>'
            f'<circle cx="{x:.1f}" cy="{y}" r="6" fill="{ACCENT}"><title>{label}</title></circle>'
        )
    desc = "; ".join(f"nummer {int(item['rank'])} op {float(item['afstandKm']):.1f} km" for item in items)
    return _svg(width, height, "afstand", "Afstand van de kandidaten tot de vacature", desc, "".join(parts))


def contribution_bars(bijdragen: Sequence[dict[str, Any]], ident: str, limit: int = 6) -> Markup:
    """Horizontal bars of score contributions: to the right raises the score, to the left lowers it."""
    items = list(bijdragen)[:limit]
    if not items:
        return Markup("")
    most = max(abs(float(item["bijdrage"])) for item in items) or 1.0
    width, label_w, row = 420, 190, 18
    half = (width - label_w - 10) / 2
    middle = label_w + half
    height = row * len(items) + 6
    parts = [f'<line x1="{middle:.1f}" y1="0" x2="{middle:.1f}" y2="{height}" stroke="{GRID}"/>']
    for index, item in enumerate(items):
        value = float(item["bijdrage"])
        size = half * abs(value) / most
        x = middle if value >= 0 else middle - size
        y = row * index + 3
        color = POSITIVE if value >= 0 else NEGATIVE
        sign = "+" if value >= 0 else "−"
        parts.append(
            f'<text x="0" y="{y + 11}" font-size="11" fill="{INK}">{escape(item["label"])[:32]}</text>'
            f'<rect x="{x:.1f}" y="{y}" width="{max(size, 1):.1f}" height="12" fill="{color}"/>'
            f'<text x="{(x + size + 3) if value >= 0 else (x - 3):.1f}" y="{y + 11}" font-size="10" '
            f'text-anchor="{"start" if value >= 0 else "end"}" fill="{INK}">{sign}{abs(value):.2f}</text>'
        )
    desc = "; ".join(f"{item['label']}: {float(item['bijdrage']):+.2f}" for item in items)
    return _svg(width, height, ident, "Bijdragen aan de score", desc, "".join(parts))


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
                f'<text x="10" y="{y + 12}" font-size="11" fill="{INK}">{label}</text>'
                f'<rect x="{label_w}" y="{y + 2}" width="{max(size, 1):.1f}" height="{bar_h - 4}" '
                f'fill="{shades[step]}"/>'
                f'<text x="{label_w + size + 4:.1f}" y="{y + 12}" font-size="11" fill="{INK}">{value}</text>'
            )
    desc = "; ".join(
        f"{row['bron']}: {row['voorgesteld']} voorgesteld, {row['geplaatst']} geplaatst, {row['duurzaam']} duurzaam"
        for row in rows
    )
    return _svg(width, height, "trechter", "Van voorstel tot duurzame plaatsing, per bron", desc, "".join(parts))
