"""Charts as inline SVG strings: no JavaScript, no fonts or files to fetch, open anywhere.

Each function returns an `Svg` (a str that Jupyter displays as a picture). Fills are solid
colours from the constants below, so a screenshot test can find each chart by its colours.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

LINE = "#2563eb"
BAND = "#bfdbfe"
INVITEE = "#6366f1"
HOST = "#f97316"
UNKNOWN = "#9ca3af"
HEAT = ("#f0fdfa", "#ccfbf1", "#99f6e4", "#5eead4", "#2dd4bf", "#14b8a6", "#0d9488", "#0f766e")
"""Utilization heatmap steps, 0% to 100% in eighths."""
EMPTY = "#f3f4f6"
"""Heatmap cell with no offered time."""
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"


class Svg(str):
    """An SVG document as a string; Jupyter renders it inline."""

    def _repr_svg_(self) -> str:
        return str(self)


def percent(value: float | None, digits: int = 0) -> str:
    """0.256 -> '26%'; None -> '–'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value * 100:.{digits}f}%"


def _svg(width: int, height: int, body: list[str], label: str) -> Svg:
    return Svg(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}" '
        f'style="{FONT};font-size:12px">' + "".join(body) + "</svg>"
    )


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    fill: str = MUTED,
    size: int = 12,
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" '
        f'font-size="{size}" font-weight="{weight}">{escape(text)}</text>'
    )


def _empty(width: int, height: int, label: str) -> Svg:
    return _svg(
        width,
        height,
        [
            f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" rx="8" '
            f'fill="#fafafa" stroke="{GRID}"/>',
            _text(width / 2, height / 2, "No data yet", anchor="middle", size=14),
        ],
        label,
    )


def _nice_max(value: float) -> float:
    # maxima whose quarter ticks are round percentages
    for step in (0.04, 0.08, 0.2, 0.4, 0.6, 0.8, 1.0):
        if value <= step:
            return step
    return 1.0


def _round_step(at_least: float) -> int:
    """The smallest count of 1, 2, 2.5 or 5 times a power of ten (whole: 2.5 from 25 up)
    that is `at_least`."""
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power // 2, 5 * power):
            if step >= at_least:
                return step
        power *= 10


def _is_number(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _f(value: float | None) -> float:
    """A value already checked with `_is_number`, as a float (NaN if it was missing)."""
    return math.nan if value is None else float(value)


def line_with_band(
    labels: Sequence[str],
    values: Sequence[float | None],
    low: Sequence[float | None],
    high: Sequence[float | None],
    *,
    label: str = "rate over time",
    width: int = 1000,
    height: int = 300,
    y_format: Callable[[float | None], str] = percent,
) -> Svg:
    """A rate over time with its confidence band (values are fractions in [0, 1])."""
    points = [i for i, v in enumerate(values) if _is_number(v)]
    if not points:
        return _empty(width, height, label)
    left, right, top, bottom = 52, 16, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(_f(h) for h in high if _is_number(h)) if any(map(_is_number, high)) else 0
    y_max = _nice_max(max(peak, max(_f(values[i]) for i in points), 0.01) * 1.05)
    count = len(labels)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / count)

    def y(v: float) -> float:
        return top + plot_h * (1 - min(max(v, 0.0), y_max) / y_max)

    body = []
    for tick in range(5):
        v = y_max * tick / 4
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            f'stroke="{GRID}"/>'
        )
        body.append(_text(left - 8, y(v) + 4, y_format(v), anchor="end"))
    banded = [i for i in points if _is_number(low[i]) and _is_number(high[i])]
    if banded:
        upper = [f"{x(i):.1f},{y(_f(high[i])):.1f}" for i in banded]
        lower = [f"{x(i):.1f},{y(_f(low[i])):.1f}" for i in reversed(banded)]
        if len(banded) == 1:
            i = banded[0]
            body.append(
                f'<rect x="{x(i) - 6:.1f}" y="{y(_f(high[i])):.1f}" width="12" '
                f'height="{y(_f(low[i])) - y(_f(high[i])):.1f}" fill="{BAND}"/>'
            )
        else:
            body.append(f'<polygon points="{" ".join(upper + lower)}" fill="{BAND}"/>')
    line = " ".join(f"{x(i):.1f},{y(_f(values[i])):.1f}" for i in points)
    body.append(
        f'<polyline points="{line}" fill="none" stroke="{LINE}" stroke-width="2.5" '
        f'stroke-linejoin="round"/>'
    )
    for i in points:
        tip = f"{labels[i]}: {y_format(values[i])} (95% CI {y_format(low[i])}–{y_format(high[i])})"
        body.append(
            f'<circle cx="{x(i):.1f}" cy="{y(_f(values[i])):.1f}" r="3.5" fill="{LINE}">'
            f"<title>{escape(tip)}</title></circle>"
        )
    step = max(1, math.ceil(count / 10))
    for i in range(0, count, step):
        body.append(_text(x(i), height - bottom + 18, labels[i], anchor="middle"))
    body.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'stroke="{MUTED}"/>'
    )
    return _svg(width, height, body, label)


def stacked_bars(
    categories: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[int]]],
    *,
    notes: Sequence[str] = (),
    label: str = "stacked bars",
    width: int = 1000,
    height: int = 300,
) -> Svg:
    """Vertical bars per category, stacked by series (name, colour, counts); a note atop each."""
    totals = [sum(int(s[2][i]) for s in series) for i in range(len(categories))]
    if not categories or max(totals, default=0) == 0:
        return _empty(width, height, label)
    left, right, top, bottom = 44, 16, 34, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    # Four gridlines a round count apart, so that each is a whole count (a peak of 2 labelled
    # them 0, 0, 1, 2, 2) a reader can read at a glance (1,537 gave 385, 770, 1,155, 1,540).
    peak = 4 * _round_step(max(totals) / 4)
    band = plot_w / len(categories)
    bar_w = min(64.0, band * 0.6)
    body = []
    for tick in range(5):
        v = peak * tick // 4
        ty = top + plot_h * (1 - tick / 4)
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="{GRID}"/>'
        )
        body.append(_text(left - 8, ty + 4, f"{v:,}", anchor="end"))
    for i, category in enumerate(categories):
        cx = left + band * (i + 0.5)
        base = float(top + plot_h)
        for name, colour, counts in series:
            count = int(counts[i])
            if count <= 0:
                continue
            h = plot_h * count / peak
            base -= h
            body.append(
                f'<rect x="{cx - bar_w / 2:.1f}" y="{base:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{escape(category)}: {count:,} '
                f"{escape(name)}</title></rect>"
            )
        if i < len(notes) and notes[i]:
            body.append(_text(cx, base - 6, notes[i], anchor="middle", fill=INK, size=11))
        body.append(_text(cx, height - bottom + 18, category, anchor="middle"))
    legend_x = left
    for name, colour, _ in series:
        body.append(f'<rect x="{legend_x}" y="6" width="12" height="12" rx="2" fill="{colour}"/>')
        body.append(_text(legend_x + 18, 16, name, fill=INK))
        legend_x += 24 + 8 * len(name)
    return _svg(width, height, body, label)


def heat_colour(value: float | None) -> str:
    """The heatmap colour of a utilization in [0, 1]; EMPTY when there was no offered time."""
    if not _is_number(value):
        return EMPTY
    step = min(len(HEAT) - 1, max(0, int(_f(value) * len(HEAT))))
    return HEAT[step]


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    row_notes: Sequence[str] = (),
    label: str = "heatmap",
    width: int = 1000,
) -> Svg:
    """A grid of utilizations (fractions) with the value printed in each cell."""
    if not rows:
        return _empty(width, 200, label)
    left, right, top = 170, 120, 28
    cell_h = 34
    cell_w = (width - left - right) / len(columns)
    height = top + cell_h * len(rows) + 56
    body = []
    for j, column in enumerate(columns):
        body.append(_text(left + cell_w * (j + 0.5), top - 10, column, anchor="middle", fill=INK))
    for i, row in enumerate(rows):
        cy = top + cell_h * i
        name = row if len(row) <= 24 else row[:23] + "…"
        body.append(_text(left - 10, cy + cell_h / 2 + 4, name, anchor="end", fill=INK))
        if i < len(row_notes):
            body.append(_text(width - right + 10, cy + cell_h / 2 + 4, row_notes[i], size=11))
        for j, value in enumerate(values[i]):
            colour = heat_colour(value)
            dark = colour in HEAT[5:]
            body.append(
                f'<rect x="{left + cell_w * j + 1:.1f}" y="{cy + 1:.1f}" '
                f'width="{cell_w - 2:.1f}" height="{cell_h - 2}" rx="4" fill="{colour}">'
                f"<title>{escape(row)}, {escape(columns[j])}: {percent(value, 1)}</title></rect>"
            )
            body.append(
                _text(
                    left + cell_w * (j + 0.5),
                    cy + cell_h / 2 + 4,
                    percent(value),
                    anchor="middle",
                    fill="#ffffff" if dark else INK,
                )
            )
    legend_y = top + cell_h * len(rows) + 22
    body.append(_text(left, legend_y + 11, "0%", anchor="end", size=11))
    for k, colour in enumerate(HEAT):
        body.append(
            f'<rect x="{left + 6 + 28 * k}" y="{legend_y}" width="28" height="14" fill="{colour}"/>'
        )
    body.append(_text(left + 12 + 28 * len(HEAT), legend_y + 11, "100%", size=11))
    body.append(
        f'<rect x="{left + 60 + 28 * len(HEAT)}" y="{legend_y}" width="14" height="14" '
        f'fill="{EMPTY}" stroke="{GRID}"/>'
    )
    body.append(_text(left + 80 + 28 * len(HEAT), legend_y + 11, "no offered time", size=11))
    return _svg(width, height, body, label)
