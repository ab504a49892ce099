"""Bar charts for the reports page as inline SVG, drawn on the server.

No script and no style attribute (the CSP allows neither): geometry is in SVG
attributes, colours in ``static/console-reports.css`` by class. Each chart is an image
with a title and a description for screen readers; every bar carries its label and
number (``data-label``, ``data-value``, and a ``<title>`` shown on hover), and the page
puts a table of the same numbers beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 220
TOP, BOTTOM, LEFT, RIGHT = 16, 40, 36, 8
"""Margins: room for the top value, the x labels and the y scale."""


def _nice_top(largest: int) -> int:
    """A round top for the y axis at or above ``largest``: 1, 2, 5, 10, 20, 50, ..."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= largest:
                return step * magnitude
        magnitude *= 10


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[tuple[str, int]],
    *,
    label_every: int = 1,
) -> Markup:
    """An SVG bar chart of ``bars`` (label, count); x labels for every ``label_every``-th
    bar (all bars keep their own label in ``data-label`` and their ``<title>``)."""
    count = max(1, len(bars))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / count
    bar_w = max(1.0, slot * 0.7)
    top = _nice_top(max((v for _l, v in bars), default=0))
    cid = escape(chart_id)
    parts = [
        f'<svg class="chart" data-chart="{cid}" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'aria-labelledby="{cid}-title {cid}-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(description)}</desc>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}"/>',
        f'<line class="grid" x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}"/>',
        f'<text class="scale" x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{top}</text>',
        f'<text class="scale" x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    for index, (label, value) in enumerate(bars):
        height = plot_h * value / top
        x = LEFT + index * slot + (slot - bar_w) / 2
        y = TOP + plot_h - height
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
            f'height="{height:.1f}" data-label="{escape(label)}" data-value="{value}">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
        if index % label_every == 0:
            parts.append(
                f'<text class="label" x="{x + bar_w / 2:.1f}" y="{HEIGHT - BOTTOM + 14}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every piece of text above is escaped


LABEL_WIDTH = 230
ROW = 26


def row_chart(
    chart_id: str, title: str, description: str, bars: Sequence[tuple[str, int]]
) -> Markup:
    """A horizontal bar chart, for few bars with long labels (outcomes, capabilities):
    the label left of each bar, its number right of it."""
    height = TOP + ROW * max(1, len(bars)) + 8
    plot_w = WIDTH - LABEL_WIDTH - 48
    top = _nice_top(max((v for _l, v in bars), default=0))
    cid = escape(chart_id)
    parts = [
        f'<svg class="chart" data-chart="{cid}" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'aria-labelledby="{cid}-title {cid}-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(description)}</desc>',
        f'<line class="axis" x1="{LABEL_WIDTH}" y1="{TOP - 4}" x2="{LABEL_WIDTH}" '
        f'y2="{height - 4}"/>',
    ]
    for index, (label, value) in enumerate(bars):
        y = TOP + index * ROW
        width = plot_w * value / top
        parts.append(
            f'<text class="label" x="{LABEL_WIDTH - 6}" y="{y + ROW * 0.55:.1f}" '
            f'text-anchor="end">{escape(label)}</text>'
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" '
            f'height="{ROW - 8}" data-label="{escape(label)}" data-value="{value}">'
            f"<title>{escape(label)}: {value}</title></rect>"
            f'<text class="scale" x="{LABEL_WIDTH + width + 4:.1f}" y="{y + ROW * 0.55:.1f}">'
            f"{value}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every piece of text above is escaped
