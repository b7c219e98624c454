"""Charts drawn on the server as inline SVG: no script, no CDN, the same in a static page.

A chart is a stacked bar per period (a month, a quarter, a run), with the series in a fixed
order and colour, the axis labelled and a legend; every bar carries a ``<title>`` with its
figures, so a reader can hover for the numbers and a test can read them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

# outcome colours, the same as the badges of the pages
COLOURS = {
    "accepted": "#2da44e",
    "rejected": "#cf222e",
    "review": "#bf8700",
    "duplicate": "#8c959f",
    "not_applicable": "#6e7781",
    "count": "#0969da",
}
WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 14, 46


def _nice_max(value: int) -> int:
    if value <= 5:
        return max(value, 1)
    step = 10 ** (len(str(value)) - 1)
    for mult in (1, 2, 2.5, 5, 10):
        top = int(step * mult)
        if top >= value:
            return top
    return value


def stacked_bars(
    periods: Sequence[tuple[str, Mapping[str, int]]],
    series: Sequence[str],
    *,
    title: str,
    labels: Mapping[str, str] | None = None,
) -> str:
    """An SVG of one stacked bar per ``(period, {series: value})``."""
    labels = labels or {}
    if not periods:
        return ""
    top = _nice_max(max(sum(values.get(s, 0) for s in series) for _, values in periods))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(periods)
    bar = max(2.0, min(48.0, slot * 0.7))
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT + 22}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):  # grid and the value axis
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#d0d7de" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#59636e">{value:g}</text>'
        )
    every = max(1, round(len(periods) / 12))  # at most a dozen period labels
    for index, (period, values) in enumerate(periods):
        x = LEFT + slot * index + (slot - bar) / 2
        y = TOP + plot_h
        figures = ", ".join(f"{labels.get(s, s)} {values.get(s, 0)}" for s in series)
        parts.append(f'<g class="bar" data-period="{escape(period)}">')
        parts.append(f"<title>{escape(period)}: {escape(figures)}</title>")
        for name in series:
            value = values.get(name, 0)
            if not value:
                continue
            h = plot_h * value / top
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS.get(name, "#0969da")}" data-series="{escape(name)}" '
                f'data-value="{value}"/>'
            )
        parts.append("</g>")
        if index % every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                f'font-size="11" fill="#59636e">{escape(period[:16])}</text>'
            )
    x = LEFT
    for name in series:  # legend
        label = labels.get(name, name)
        parts.append(
            f'<rect x="{x}" y="{HEIGHT + 4}" width="10" height="10" '
            f'fill="{COLOURS.get(name, "#0969da")}"/>'
            f'<text x="{x + 14}" y="{HEIGHT + 13}" font-size="11" fill="#1f2328">'
            f"{escape(label)}</text>"
        )
        x += 24 + 7 * len(label)
    parts.append("</svg>")
    return "".join(parts)
