"""Trend charts as inline SVG: no script, no external file, prints as vector graphics.

Every text that goes into the SVG is escaped here (labels come from the catalogs, but the
chart is marked safe for the autoescaping templates, so it must be safe by construction).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

__all__ = ["line_chart"]

_COLOURS = ("#1f6f3f", "#a40000", "#1f4e8c", "#b86e00", "#6a3d9a")
_W, _H = 760, 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 250, 16, 40


def _nice_max(value: int) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def line_chart(title: str, x_labels: Sequence[str], series: Mapping[str, Sequence[int]],
               series_names: Mapping[str, str]) -> Markup:
    """A multi-series line chart with a legend; ``x_labels`` label the buckets."""
    count = max(len(x_labels), 1)
    top = _nice_max(max((max(values, default=0) for values in series.values()), default=0))
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x(index: int) -> float:
        return _LEFT + (plot_w * index / (count - 1) if count > 1 else plot_w / 2)

    def y(value: int) -> float:
        return _TOP + plot_h - plot_h * value / top

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" role="img" '
             f'aria-label="{escape(title)}" class="chart">', f"<title>{escape(title)}</title>"]
    intervals = top if top <= 5 else 5  # the nice maxima (1, 2, 5 x 10^n) divide into whole steps
    for tick in range(intervals + 1):
        value = top * tick // intervals
        parts.append(f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                     'stroke="#ddd" stroke-width="1"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{y(value) + 4:.1f}" font-size="11" text-anchor="end" '
                     f'fill="#444">{value}</text>')
    step = max(1, count // 8)
    for index in range(0, count, step):
        parts.append(f'<text x="{x(index):.1f}" y="{_H - _BOTTOM + 16}" font-size="10" text-anchor="middle" '
                     f'fill="#444">{escape(x_labels[index]) if x_labels else ""}</text>')
    for position, (key, values) in enumerate(series.items()):
        colour = _COLOURS[position % len(_COLOURS)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        if points:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        legend_y = _TOP + 14 + 18 * position
        parts.append(f'<rect x="{_W - _RIGHT + 12}" y="{legend_y - 9}" width="12" height="3" fill="{colour}"/>')
        parts.append(f'<text x="{_W - _RIGHT + 30}" y="{legend_y - 4}" font-size="11" fill="#111">'
                     f'{escape(series_names.get(key, key))} ({sum(values)})</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text above is escaped
