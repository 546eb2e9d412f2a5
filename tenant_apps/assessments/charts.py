"""Server-rendered SVG charts for the assessment comparison page: a line chart (a score over
reviews) and a radar chart (first review against latest, one axis per domain).

Design choices:

- Hand-rolled SVG strings, standard library only: no chart library and no script, no external
  reference, no ``style`` attribute (the content security policy allows neither inline scripts nor
  inline styles); presentation attributes do the styling.
- Each chart is an ``<svg role="img">`` named by its ``<title>`` and ``<desc>`` and comes with the
  same numbers as a data table (``Chart.headers`` and ``Chart.rows``, rendered by
  ``assessments/_chart.html``): the drawing is the summary, the table the full and accessible answer.
- The viewBox is 400 units wide with text 14 units high, and the SVG scales to its container
  (``width="100%"``): on a 360 px phone the text is still about 12.6 px.
- Series differ by more than colour: a dashed series has square markers, a solid one circles.
- Everything users wrote (titles, labels, series names) is wrapped or truncated first and escaped
  with Django's ``escape`` afterwards, so an entity is never cut in half.
- Output is deterministic (coordinates rounded to one decimal place): same data, same string.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

__all__ = ["Chart", "Series", "line_chart", "radar_chart"]

WIDTH = 400
FONT = 14  # user units; at 360 px display width this is about 12.6 px
LINE_HEIGHT = 17
CHAR_WIDTH = 0.55 * FONT  # a generous estimate of Arial's average character width
TEXT = "#0b0c0c"
GRID = "#b1b4b6"
AXIS = "#505a5f"
COLOURS = ("#1d70b8", "#d4351c", "#00703c", "#4c2c92", "#912b88", "#505a5f")  # GOV.UK palette
DASH = "7 4"
NO_ANSWER = "No answer"
ELLIPSIS = "\u2026"
CHART_ID = re.compile(r"[a-z][a-z0-9-]{0,60}")

# Line chart layout.
PLOT_TOP = 12
PLOT_HEIGHT = 200
PLOT_RIGHT = WIDTH - 16
X_PADDING = 12  # between the plot's edge and the first and last points
X_LABEL_CHARS = 14
# Radar chart layout.
RADIUS = 90
AXIS_LABEL_GAP = 8
AXIS_LABEL_CHARS = 13  # per line, two lines at most
RADAR_TOP = 2 * LINE_HEIGHT + AXIS_LABEL_GAP + 8
# Legend.
LEGEND_ROW = 22
LEGEND_CHARS = 46


@dataclass(frozen=True)
class Series:
    """One line (or polygon) of a chart: a value per x label or per axis, ``None`` for no answer."""

    name: str
    values: list[float | None]
    dashed: bool = False


@dataclass(frozen=True)
class Chart:
    """A drawn chart and the same numbers as a table; ``svg`` is safe to put in a page as it is."""

    chart_id: str
    title: str
    description: str
    svg: SafeString
    headers: list[str]
    rows: list[list[str]]


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    x_labels: list[str],
    series: list[Series],
    minimum: float,
    maximum: float,
    y_label: str = "Score",
    x_name: str = "Review",
) -> Chart:
    """Each series' value at each x label (reviews, in order), joined by lines broken where there is
    no answer. ``x_name`` heads the table's first column."""
    _validate(chart_id, minimum, maximum, series, len(x_labels), "x label")
    if not x_labels:
        raise ValueError("A line chart needs at least one x label.")
    ticks = _ticks(minimum, maximum)
    tick_width = max(len(_number(tick)) for tick in ticks) * CHAR_WIDTH
    left = round(LINE_HEIGHT + 6 + tick_width + 8)
    bottom = PLOT_TOP + PLOT_HEIGHT

    def y_of(value: float) -> float:
        return PLOT_TOP + (maximum - _clamp(value, minimum, maximum)) / (maximum - minimum) * PLOT_HEIGHT

    count = len(x_labels)
    span = PLOT_RIGHT - left - 2 * X_PADDING
    spacing = span / (count - 1) if count > 1 else span
    xs = [left + X_PADDING + i * spacing for i in range(count)] if count > 1 else [(left + PLOT_RIGHT) / 2]

    parts = []
    for tick in ticks:
        y = y_of(tick)
        parts.append(_line(left, y, PLOT_RIGHT, y, GRID))
        parts.append(_text(left - 6, y + FONT * 0.35, _number(tick), anchor="end"))
    parts.append(_line(left, bottom, PLOT_RIGHT, bottom, AXIS))
    y_middle = PLOT_TOP + PLOT_HEIGHT / 2
    parts.append(
        f'<text x="{_f(FONT)}" y="{_f(y_middle)}" text-anchor="middle" '
        f'transform="rotate(-90 {_f(FONT)} {_f(y_middle)})">{escape(y_label)}</text>'
    )

    # X labels: level if they fit between points, else turned 45 degrees; every k-th if still crowded.
    shown = [_truncate(label, X_LABEL_CHARS) for label in x_labels]
    longest = max(len(text) for text in shown) * CHAR_WIDTH
    level = count == 1 or longest + 8 <= spacing
    if not level:  # turned labels run down to the left: shorten those that would leave the viewBox
        room = [max(3, math.floor((x - 2) / (CHAR_WIDTH * math.sqrt(0.5)))) for x in xs]
        shown = [_truncate(label, min(X_LABEL_CHARS, chars)) for label, chars in zip(x_labels, room, strict=True)]
    every = 1 if level else max(1, math.ceil(LINE_HEIGHT * 1.2 / spacing))
    for i, (x, label, text) in enumerate(zip(xs, x_labels, shown, strict=True)):
        parts.append(_line(x, bottom, x, bottom + 5, AXIS))
        if i % every:
            continue
        hover = label if text != label else None
        if level:
            half = len(text) * CHAR_WIDTH / 2
            x_text = min(max(x, half + 6), WIDTH - half - 6)
            parts.append(_text(x_text, bottom + 6 + FONT, text, anchor="middle", hover=hover))
        else:
            y_text = bottom + 6 + FONT * 0.7
            parts.append(_text(x, y_text, text, anchor="end", hover=hover, rotate=(-45, x, y_text)))
    labels_height = FONT + 10 if level else longest * math.sqrt(0.5) + FONT + 10

    for index, one in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        for run in _runs(xs, one.values, y_of):
            if len(run) > 1:
                parts.append(
                    f'<polyline points="{_points(run)}" fill="none" stroke="{colour}" stroke-width="2.5" '
                    f'stroke-linejoin="round" stroke-linecap="round"{_dash(one)}/>'
                )
        for x, label, value in zip(xs, x_labels, one.values, strict=True):
            if value is not None:  # a lone point, between two missing answers, still shows
                parts.append(_marker(x, y_of(value), colour, one.dashed, f"{one.name}, {label}: {_number(value)}"))

    legend_top = bottom + labels_height + 8
    parts.append(_legend(series, legend_top))
    height = legend_top + len(series) * LEGEND_ROW + 4
    rows = [[label, *(_number(one.values[i]) for one in series)] for i, label in enumerate(x_labels)]
    return _chart(chart_id, title, description, height, parts, [x_name, *(one.name for one in series)], rows)


def radar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    axes: list[str],
    series: list[Series],
    minimum: float,
    maximum: float,
    axis_name: str = "Domain",
) -> Chart:
    """Each series as a closed polygon over the axes (the first at the top, then clockwise); no answer
    is drawn at the centre. ``axis_name`` heads the table's first column."""
    _validate(chart_id, minimum, maximum, series, len(axes), "axis")
    if len(axes) < 3:
        raise ValueError("A radar chart needs at least three axes.")
    cx, cy = WIDTH / 2, RADAR_TOP + RADIUS
    angles = [2 * math.pi * i / len(axes) for i in range(len(axes))]

    def at(angle: float, radius: float) -> tuple[float, float]:
        return cx + radius * math.sin(angle), cy - radius * math.cos(angle)

    def radius_of(value: float | None) -> float:
        value = minimum if value is None else _clamp(value, minimum, maximum)
        return (value - minimum) / (maximum - minimum) * RADIUS

    parts = []
    rings = [tick for tick in _ticks(minimum, maximum) if tick > minimum]
    if maximum - minimum > 10:
        rings = [minimum + (maximum - minimum) * i / 5 for i in range(1, 6)]
    if not rings or rings[-1] < maximum:
        rings.append(maximum)
    for ring in rings:
        parts.append(f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="{_f(radius_of(ring))}" fill="none" stroke="{GRID}"/>')
    for angle in angles:
        parts.append(_line(cx, cy, *at(angle, RADIUS), GRID))
    # Ring values along the top axis, every k-th so that they never overlap.
    every = max(1, math.ceil(FONT / (RADIUS / len(rings))))
    for ring in [ring for i, ring in enumerate(reversed(rings)) if i % every == 0]:
        parts.append(
            f'<text x="{_f(cx + 4)}" y="{_f(cy - radius_of(ring) + FONT * 0.35)}" stroke="#ffffff" '
            f'stroke-width="3" paint-order="stroke">{_number(ring)}</text>'
        )
    for angle, label in zip(angles, axes, strict=True):
        parts.append(_axis_label(*at(angle, RADIUS + AXIS_LABEL_GAP), angle, label))

    for index, one in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        corners = [at(angle, radius_of(v)) for angle, v in zip(angles, one.values, strict=True)]
        parts.append(
            f'<polygon points="{_points(corners)}" fill="{colour}" fill-opacity="0.1" stroke="{colour}" '
            f'stroke-width="2.5" stroke-linejoin="round"{_dash(one)}/>'
        )
        for (x, y), label, value in zip(corners, axes, one.values, strict=True):
            if value is not None:
                parts.append(_marker(x, y, colour, one.dashed, f"{one.name}, {label}: {_number(value)}"))

    legend_top = cy + RADIUS + AXIS_LABEL_GAP + 2 * LINE_HEIGHT + 12
    parts.append(_legend(series, legend_top))
    height = legend_top + len(series) * LEGEND_ROW + 4
    rows = [[label, *(_number(one.values[i]) for one in series)] for i, label in enumerate(axes)]
    return _chart(chart_id, title, description, height, parts, [axis_name, *(one.name for one in series)], rows)


# --- Checks and numbers ---------------------------------------------------------------------------


def _validate(chart_id: str, minimum: float, maximum: float, series: list[Series], count: int, what: str) -> None:
    if not isinstance(chart_id, str) or not CHART_ID.fullmatch(chart_id):
        raise ValueError(f"Chart id {chart_id!r}: a lower-case letter, then up to 60 letters, digits or hyphens.")
    if not (math.isfinite(minimum) and math.isfinite(maximum)) or minimum >= maximum:
        raise ValueError(f"The minimum ({minimum}) must be below the maximum ({maximum}).")
    if not series:
        raise ValueError("A chart needs at least one series.")
    for one in series:
        if len(one.values) != count:
            raise ValueError(f"Series {one.name!r} has {len(one.values)} values for {count} {what}(s).")
        if any(v is not None and not math.isfinite(v) for v in one.values):
            raise ValueError(f"Series {one.name!r} has a value that is not a finite number.")


def _clamp(value: float, minimum: float, maximum: float) -> float:
    return min(max(value, minimum), maximum)


def _number(value: float | None) -> str:
    """A value for people: whole numbers without ".0", others to one decimal place."""
    if value is None:
        return NO_ANSWER
    rounded = round(float(value), 1)
    return str(int(rounded)) if rounded.is_integer() else f"{rounded:.1f}"


def _ticks(minimum: float, maximum: float) -> list[float]:
    """Every whole number when the range is at most 10 (and holds three or more), else about five
    round steps."""
    if maximum - minimum <= 10:
        whole = list(range(math.ceil(minimum), math.floor(maximum) + 1))
        if len(whole) >= 3:
            return [float(tick) for tick in whole]
    raw = (maximum - minimum) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * 0.999)
    first, last = math.ceil(minimum / step - 1e-9), math.floor(maximum / step + 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


def _runs(xs: list[float], values: list[float | None], y_of) -> list[list[tuple[float, float]]]:
    """The unbroken stretches of a series: a missing value ends one."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, value in zip(xs, values, strict=True):
        if value is None:
            runs.append([])
        else:
            runs[-1].append((x, y_of(value)))
    return [run for run in runs if run]


# --- SVG pieces -----------------------------------------------------------------------------------


def _f(number: float) -> str:
    """A coordinate to one decimal place, without a trailing ".0" (and never "-0")."""
    text = f"{round(number, 1) + 0.0:.1f}"
    return text.removesuffix(".0")


def _points(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{_f(x)},{_f(y)}" for x, y in points)


def _dash(series: Series) -> str:
    return f' stroke-dasharray="{DASH}"' if series.dashed else ""


def _line(x1: float, y1: float, x2: float, y2: float, colour: str) -> str:
    return f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" stroke="{colour}"/>'


def _text(x: float, y: float, text: str, *, anchor: str = "start", hover: str | None = None, rotate=None) -> str:
    """One line of text, escaped; ``hover`` (the full text when this is shortened) as a tooltip."""
    turn = f' transform="rotate({rotate[0]} {_f(rotate[1])} {_f(rotate[2])})"' if rotate else ""
    tooltip = f"<title>{escape(hover)}</title>" if hover else ""
    return f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}"{turn}>{tooltip}{escape(text)}</text>'


def _marker(x: float, y: float, colour: str, square: bool, hover: str) -> str:
    tooltip = f"<title>{escape(hover)}</title>"
    if square:
        return f'<rect x="{_f(x - 4)}" y="{_f(y - 4)}" width="8" height="8" fill="{colour}">{tooltip}</rect>'
    return f'<circle cx="{_f(x)}" cy="{_f(y)}" r="4.5" fill="{colour}">{tooltip}</circle>'


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def _wrap(text: str, limit: int, most: int = 2) -> list[str]:
    """Words greedily onto lines of ``limit`` characters; past ``most`` lines (or in a word too long
    for one) the text is cut with an ellipsis."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= limit:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > most:
        lines[most - 1 :] = [_truncate(" ".join(lines[most - 1 :]), limit)]
    return [_truncate(line, limit) for line in lines] or [""]


def _axis_label(x: float, y: float, angle: float, label: str) -> str:
    """An axis's name just outside the circle, anchored away from it, with the full name as a tooltip."""
    lines = _wrap(label, AXIS_LABEL_CHARS)
    across, up = math.sin(angle), math.cos(angle)
    anchor = "middle" if abs(across) < 0.2 else ("start" if across > 0 else "end")
    if up > 0.2:  # above the centre: the last line sits on the point
        first = y - (len(lines) - 1) * LINE_HEIGHT
    elif up < -0.2:  # below: the first line hangs from it
        first = y + FONT
    else:
        first = y + FONT * 0.35 - (len(lines) - 1) * LINE_HEIGHT / 2
    spans = "".join(
        f'<tspan x="{_f(x)}" y="{_f(first + i * LINE_HEIGHT)}">{escape(line)}</tspan>' for i, line in enumerate(lines)
    )
    return f'<text text-anchor="{anchor}"><title>{escape(label)}</title>{spans}</text>'


def _legend(series: list[Series], top: float) -> str:
    """One row per series: a sample of its line with its marker, then its name."""
    rows = []
    for index, one in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        y = top + index * LEGEND_ROW + LEGEND_ROW / 2
        name = _truncate(one.name, LEGEND_CHARS)
        rows.append(
            f'<line x1="16" y1="{_f(y)}" x2="48" y2="{_f(y)}" stroke="{colour}" stroke-width="2.5"{_dash(one)}/>'
            + _marker(32, y, colour, one.dashed, one.name)
            + _text(56, y + FONT * 0.35, name, hover=one.name if name != one.name else None)
        )
    return f'<g class="concord-chart__legend">{"".join(rows)}</g>'


def _chart(
    chart_id: str, title: str, description: str, height: float, parts: list[str], headers: list[str], rows
) -> Chart:
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {math.ceil(height)}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" class="concord-chart" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" font-family="arial, sans-serif" font-size="{FONT}" fill="{TEXT}">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>'
        f"{''.join(parts)}</svg>"
    )
    safe = mark_safe(svg)  # noqa: S308 - every piece of text in it was escaped above
    return Chart(chart_id=chart_id, title=title, description=description, svg=safe, headers=headers, rows=rows)
