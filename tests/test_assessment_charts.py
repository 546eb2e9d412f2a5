"""The assessment comparison page's SVG charts (tenant_apps.assessments.charts) and their partial.

No database: the charts are pure functions of their input, and the partial renders without a request.
Each SVG is parsed as XML, so a test fails on anything a browser would not read as one drawing.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from django.template.loader import render_to_string

from tenant_apps.assessments import charts
from tenant_apps.assessments.charts import Series, line_chart, radar_chart

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(1)</script> & co"
REVIEWS = ["1 Mar 2026", "1 Jun 2026", "1 Sep 2026", "1 Dec 2026"]
DOMAINS = [
    "Physical health", "Emotional wellbeing and mental health", "Housing", "Money", "Relationships",
    "Education and employment", "Substance use", "Offending", "Safety", "Parenting", "Community", "Income",
]  # fmt: skip


def line(values=(1, 2, 3, 4), *, more=(), **kwargs):
    arguments = {
        "chart_id": "housing-line",
        "title": "Housing: scores over reviews",
        "description": "The worker's and the family's scores for housing at each review, from 1 to 5.",
        "x_labels": REVIEWS[: len(values)],
        "series": [Series("Worker's score", list(values)), *more],
        "minimum": 1,
        "maximum": 5,
    }
    return line_chart(**(arguments | kwargs))


def radar(axes=3, *, first=None, latest=None, **kwargs):
    names = DOMAINS[:axes]
    arguments = {
        "chart_id": "family-radar",
        "title": "The family: first and latest review",
        "description": "Each domain's score at the first review and at the latest, from 1 to 5.",
        "axes": names,
        "series": [
            Series("First review", first if first is not None else [2] * axes),
            Series("Latest review", latest if latest is not None else [4] * axes, dashed=True),
        ],
        "minimum": 1,
        "maximum": 5,
    }
    return radar_chart(**(arguments | kwargs))


def xml(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - our own output, parsed to check that it is well formed


def parse(chart) -> ET.Element:
    return xml(str(chart.svg))


def children(root, tag):
    """The drawing's own elements of a kind (the legend's are inside its group)."""
    return [element for element in root if element.tag == SVG + tag]


def markers(root):
    """Data points: circles and squares carrying a tooltip, outside the legend."""
    return [
        element
        for element in root
        if element.tag in (SVG + "circle", SVG + "rect") and element.find(SVG + "title") is not None
    ]


def points(element) -> list[tuple[float, float]]:
    return [tuple(float(n) for n in pair.split(",")) for pair in element.get("points").split()]


def centre(element) -> tuple[float, float]:
    if element.tag == SVG + "circle":
        return float(element.get("cx")), float(element.get("cy"))
    return float(element.get("x")) + 4, float(element.get("y")) + 4


# --- The SVG element ------------------------------------------------------------------------------


@pytest.mark.parametrize("chart", [line(), radar()], ids=["line", "radar"])
def test_svg_is_named_by_its_title_and_description(chart):
    root = parse(chart)
    assert root.tag == SVG + "svg"
    assert root.get("role") == "img" and root.get("class") == "concord-chart" and root.get("width") == "100%"
    assert root.get("preserveAspectRatio") == "xMidYMid meet"
    assert root.get("aria-labelledby") == f"{chart.chart_id}-title {chart.chart_id}-desc"
    title, desc = root[0], root[1]
    assert (title.tag, title.get("id"), title.text) == (SVG + "title", f"{chart.chart_id}-title", chart.title)
    assert (desc.tag, desc.get("id"), desc.text) == (SVG + "desc", f"{chart.chart_id}-desc", chart.description)
    ids = [element.get("id") for element in root.iter() if element.get("id")]
    assert sorted(ids) == sorted(root.get("aria-labelledby").split())


@pytest.mark.parametrize("chart", [line(), radar(12)], ids=["line", "radar"])
def test_svg_scales_and_stays_readable_at_phone_width(chart):
    root = parse(chart)
    x, y, width, height = (float(n) for n in root.get("viewBox").split())
    assert (x, y) == (0, 0) and 360 <= width <= 480 and height > 0
    assert root.get("height") is None
    sizes = [float(element.get("font-size")) for element in root.iter() if element.get("font-size")]
    assert sizes and min(sizes) * 360 / width >= 12


@pytest.mark.parametrize("chart", [line(more=[Series("Family's score", [1, 5, 3, 2], dashed=True)]), radar(5)])
def test_nothing_runs_or_loads(chart):
    svg = str(chart.svg)
    assert "<script" not in svg and "javascript:" not in svg
    for element in parse(chart).iter():
        for name in element.attrib:
            assert not name.startswith("on") and name != "style" and "href" not in name


def test_series_differ_by_more_than_colour():
    chart = line(more=[Series("Family's score", [2, 2, 3, 3], dashed=True)])
    root = parse(chart)
    solid, dashed = children(root, "polyline")
    assert solid.get("stroke") == "#1d70b8" and solid.get("stroke-dasharray") is None
    assert dashed.get("stroke") == "#d4351c" and dashed.get("stroke-dasharray")
    assert [element.tag for element in markers(root)] == [SVG + "circle"] * 4 + [SVG + "rect"] * 4
    legend = root.find(SVG + "g")
    assert legend.get("class") == "concord-chart__legend"
    assert [text.text for text in legend.iter(SVG + "text")] == ["Worker's score", "Family's score"]
    assert [sample.get("stroke-dasharray") is not None for sample in legend.iter(SVG + "line")] == [False, True]
    assert {legend.find(SVG + "circle") is not None, legend.find(SVG + "rect") is not None} == {True}


def test_the_same_input_draws_the_same_string():
    assert line() == line() and str(line().svg) == str(line().svg)
    assert radar(12) == radar(12)


# --- Line chart -----------------------------------------------------------------------------------


def test_each_series_is_a_polyline_with_a_marker_at_each_point():
    root = parse(line((1, 2, 3, 4), more=[Series("Family's score", [4, 3, 2, 1], dashed=True)]))
    polylines = children(root, "polyline")
    assert len(polylines) == 2 and all(len(points(p)) == 4 for p in polylines)
    assert len(markers(root)) == 8
    xs = [x for x, _ in points(polylines[0])]
    assert xs == sorted(xs) and len(set(xs)) == 4
    assert points(polylines[0])[0][1] > points(polylines[0])[-1][1]  # a higher score is drawn higher


def test_no_answer_breaks_the_line():
    root = parse(line((1, 2, None, 3, 4), x_labels=[*REVIEWS, "1 Mar 2027"]))
    assert [len(points(p)) for p in children(root, "polyline")] == [2, 2]
    assert len(markers(root)) == 4


def test_a_lone_point_keeps_its_marker():
    root = parse(line((1, None, 3, 4)))
    (polyline,) = children(root, "polyline")
    assert len(points(polyline)) == 2
    dots = markers(root)
    assert len(dots) == 3
    assert centre(dots[0])[0] < min(x for x, _ in points(polyline))  # the first review, on its own
    assert dots[0].find(SVG + "title").text == "Worker's score, 1 Mar 2026: 1"


def test_a_series_with_no_answers_draws_nothing_but_its_legend():
    root = parse(line((None, None, None)))
    assert children(root, "polyline") == [] and markers(root) == []
    assert [text.text for text in root.find(SVG + "g").iter(SVG + "text")] == ["Worker's score"]


def test_one_review_is_one_marker_in_the_middle():
    root = parse(line((3,)))
    assert children(root, "polyline") == []
    (dot,) = markers(root)
    assert 150 < centre(dot)[0] < 250


def test_values_out_of_range_are_clamped_in_the_drawing_not_in_the_table():
    chart = line((9, 5, 1, -3))
    (polyline,) = children(parse(chart), "polyline")
    ys = [y for _, y in points(polyline)]
    assert ys[0] == ys[1] and ys[2] == ys[3] and ys[0] < ys[2]
    assert [row[1] for row in chart.rows] == ["9", "5", "1", "-3"]


def tick_labels(chart) -> list[str]:
    root = parse(chart)
    return [t.text for t in children(root, "text") if t.get("text-anchor") == "end" and t.get("transform") is None]


def test_ticks_are_whole_numbers_for_a_small_range_and_round_steps_for_a_large_one():
    assert tick_labels(line()) == ["1", "2", "3", "4", "5"]
    assert tick_labels(line(minimum=0, maximum=10)) == [str(n) for n in range(11)]
    assert tick_labels(line((10, 50, 90, 100), minimum=0, maximum=100)) == ["0", "20", "40", "60", "80", "100"]
    assert tick_labels(line((0.2, 0.4, 0.6, 0.8), minimum=0, maximum=1)) == ["0", "0.2", "0.4", "0.6", "0.8", "1"]
    gridlines = [g for g in children(parse(line()), "line") if g.get("stroke") == "#b1b4b6"]
    assert len(gridlines) == 5


def test_the_y_axis_is_named():
    root = parse(line(y_label="Score (1 to 5)"))
    assert "Score (1 to 5)" in [
        t.text for t in children(root, "text") if (t.get("transform") or "").startswith("rotate(-90")
    ]


def test_many_reviews_turn_their_labels_and_stay_inside_the_drawing():
    labels = [f"{day} Mar 2026" for day in range(1, 13)]
    chart = line(list(range(1, 13)), x_labels=labels, minimum=0, maximum=12)
    root = parse(chart)
    turned = [t for t in children(root, "text") if (t.get("transform") or "").startswith("rotate(-45")]
    assert turned and all(float(t.get("x")) <= 400 for t in turned)
    assert len(chart.rows) == 12 and [row[0] for row in chart.rows] == labels


def test_line_chart_table():
    chart = line((3.0, 3.14, None, 2.96), more=[Series("Family's score", [4, 2.75, 5, None], dashed=True)])
    assert chart.headers == ["Review", "Worker's score", "Family's score"]
    assert chart.rows == [
        ["1 Mar 2026", "3", "4"],
        ["1 Jun 2026", "3.1", "2.8"],
        ["1 Sep 2026", "No answer", "5"],
        ["1 Dec 2026", "3", "No answer"],
    ]
    assert line(x_name="Date").headers[0] == "Date"


# --- Radar chart ----------------------------------------------------------------------------------


def axis_labels(root):
    return [t for t in children(root, "text") if t.find(SVG + "tspan") is not None]


@pytest.mark.parametrize("count", [3, 12])
def test_radar_has_a_polygon_per_series_and_a_label_per_axis(count):
    chart = radar(count)
    root = parse(chart)
    polygons = children(root, "polygon")
    assert len(polygons) == 2 and all(len(points(p)) == count for p in polygons)
    assert polygons[1].get("stroke-dasharray") and polygons[0].get("stroke-dasharray") is None
    assert all(0 < float(p.get("fill-opacity")) <= 0.2 for p in polygons)
    assert len(markers(root)) == 2 * count
    labels = axis_labels(root)
    assert [label.find(SVG + "title").text for label in labels] == DOMAINS[:count]
    assert all(1 <= len(label.findall(SVG + "tspan")) <= 2 for label in labels)
    assert len(children(root, "line")) == count  # the spokes
    assert [row[0] for row in chart.rows] == DOMAINS[:count]


def test_radar_starts_at_the_top_and_goes_clockwise():
    (first, _) = children(parse(radar(4, first=[5, 5, 5, 5])), "polygon")
    cx, cy = charts.WIDTH / 2, charts.RADAR_TOP + charts.RADIUS
    top, right, bottom, left = points(first)
    assert top[0] == cx and top[1] < cy
    assert right[0] > cx and math.isclose(right[1], cy)
    assert bottom[0] == cx and bottom[1] > cy
    assert left[0] < cx


def test_radar_draws_no_answer_at_the_centre():
    chart = radar(3, first=[None, 3, 9])
    root = parse(chart)
    (first, latest) = children(root, "polygon")
    assert points(first)[0] == (charts.WIDTH / 2, charts.RADAR_TOP + charts.RADIUS)
    assert math.isclose(math.dist(points(first)[2], points(first)[0]), charts.RADIUS, abs_tol=0.1)  # 9 drawn at 5
    assert len(markers(root)) == 5  # none for no answer
    assert [row[1] for row in chart.rows] == ["No answer", "3", "9"]
    assert chart.headers == ["Domain", "First review", "Latest review"]


def test_radar_rings():
    rings = lambda chart: [c for c in children(parse(chart), "circle") if c.get("fill") == "none"]  # noqa: E731
    assert len(rings(radar())) == 4  # 2, 3, 4 and 5 (1 is the centre)
    assert len(rings(radar(minimum=0, maximum=10))) == 10
    assert len(rings(radar(minimum=0, maximum=100, first=[10, 50, 90], latest=[20, 60, 100]))) == 5


def test_long_axis_labels_wrap_onto_two_lines_and_then_are_cut():
    long = "Emotional wellbeing and mental health and everything else"
    chart = radar_chart(
        chart_id="r", title="t", description="d", axes=["Housing", "Emotional wellbeing", long],
        series=[Series("First review", [1, 2, 3])], minimum=1, maximum=5,
    )  # fmt: skip
    root = parse(chart)
    short, two, cut = axis_labels(root)
    assert [s.text for s in short.findall(SVG + "tspan")] == ["Housing"]
    assert [s.text for s in two.findall(SVG + "tspan")] == ["Emotional", "wellbeing"]
    lines = [s.text for s in cut.findall(SVG + "tspan")]
    assert len(lines) == 2 and lines[1].endswith("\u2026")
    assert all(len(line) <= charts.AXIS_LABEL_CHARS for line in lines)
    assert cut.find(SVG + "title").text == long


# --- Hostile text and refusals --------------------------------------------------------------------


def test_hostile_labels_are_escaped_everywhere():
    chart = line_chart(
        chart_id="hostile",
        title=HOSTILE,
        description=HOSTILE,
        x_labels=[HOSTILE, "1 Jun 2026"],
        series=[Series(HOSTILE, [1, 2]), Series("Family's score", [2, None], dashed=True)],
        minimum=1,
        maximum=5,
        y_label=HOSTILE,
    )
    svg = str(chart.svg)
    assert "<script" not in svg and "& co" not in svg and "&amp; co" in svg
    root = xml(svg)
    assert root[0].text == HOSTILE and root[1].text == HOSTILE
    texts = "".join(root.itertext())
    assert "<script>alert(1)</script>" in texts  # read back as text, never as an element
    assert not [element for element in root.iter() if "script" in element.tag]

    spider = radar_chart(
        chart_id="hostile-radar", title=HOSTILE, description=HOSTILE, axes=[HOSTILE, "A & B", "C"],
        series=[Series(HOSTILE, [1, 2, 3])], minimum=1, maximum=5,
    )  # fmt: skip
    svg = str(spider.svg)
    assert "<script" not in svg and "A &amp; B" in svg
    assert xml(svg).find(f"{SVG}text/{SVG}title") is not None


@pytest.mark.parametrize("chart_id", ["", "1chart", "Chart", "a b", "a_b", 'a"b', "a" * 62, "chart\n"])
def test_chart_id_must_be_a_safe_id_prefix(chart_id):
    with pytest.raises(ValueError, match="Chart id"):
        line(chart_id=chart_id)
    with pytest.raises(ValueError, match="Chart id"):
        radar(chart_id=chart_id)


def test_longest_chart_id_is_accepted():
    assert line(chart_id="a" * 61).chart_id == "a" * 61


@pytest.mark.parametrize("minimum, maximum", [(5, 5), (5, 1), (0, math.inf), (math.nan, 5)])
def test_minimum_must_be_below_maximum(minimum, maximum):
    with pytest.raises(ValueError):
        line(minimum=minimum, maximum=maximum)
    with pytest.raises(ValueError):
        radar(minimum=minimum, maximum=maximum)


@pytest.mark.parametrize("count", [0, 1, 2])
def test_radar_needs_three_axes(count):
    with pytest.raises(ValueError, match="three axes"):
        radar(count, first=[1] * count, latest=[2] * count)


def test_input_that_cannot_be_drawn_is_refused():
    with pytest.raises(ValueError, match="values"):
        line((1, 2, 3), x_labels=REVIEWS)
    with pytest.raises(ValueError, match="values"):
        radar(3, first=[1, 2])
    with pytest.raises(ValueError, match="x label"):
        line((), x_labels=[])
    with pytest.raises(ValueError, match="series"):
        line(series=[])
    with pytest.raises(ValueError, match="finite"):
        line((1, math.nan, 3, 4))


# --- The partial ----------------------------------------------------------------------------------


def test_partial_renders_figure_drawing_and_table():
    chart = line((1, None, 3, 4), more=[Series("Family's score", [2, 3, 4.5, 5], dashed=True)], title="Housing & home")
    html = render_to_string("assessments/_chart.html", {"chart": chart})
    figure = xml(html)
    assert figure.tag == "figure" and figure.get("class") == "concord-chart-figure"
    assert figure.get("aria-labelledby") == "housing-line-caption"
    caption = figure.find("figcaption")
    assert (caption.get("id"), caption.get("class"), caption.text) == (
        "housing-line-caption",
        "govuk-heading-s",
        chart.title,
    )
    assert figure.find(SVG + "svg") is not None
    details = figure.find("details")
    assert details.get("class") == "govuk-details"
    assert "".join(details.find("summary").itertext()) == "Show the data as a table"
    table = details.find("div/table")
    assert table.get("class") == "govuk-table"
    assert table.find("caption").text == "Housing & home"
    assert table.find("caption").get("class") == "govuk-table__caption govuk-table__caption--s"
    headers = table.findall("thead/tr/th")
    assert [th.text for th in headers] == ["Review", "Worker's score", "Family's score"]
    assert {th.get("scope") for th in headers} == {"col"}
    rows = table.findall("tbody/tr")
    assert [[cell.text for cell in row] for row in rows] == [
        ["1 Mar 2026", "1", "2"],
        ["1 Jun 2026", "No answer", "3"],
        ["1 Sep 2026", "3", "4.5"],
        ["1 Dec 2026", "4", "5"],
    ]
    assert all(row[0].tag == "th" and row[0].get("scope") == "row" for row in rows)
    assert all(cell.tag == "td" for row in rows for cell in row[1:])


def test_partial_escapes_hostile_text():
    chart = radar_chart(
        chart_id="family-radar", title=HOSTILE, description=HOSTILE, axes=[HOSTILE, "B", "C"],
        series=[Series(HOSTILE, [1, None, 3])], minimum=1, maximum=5,
    )  # fmt: skip
    html = render_to_string("assessments/_chart.html", {"chart": chart})
    assert "<script" not in html
    figure = xml(html)
    assert figure.find("figcaption").text == HOSTILE
    assert [th.text for th in figure.findall("details/div/table/thead/tr/th")] == ["Domain", HOSTILE]
