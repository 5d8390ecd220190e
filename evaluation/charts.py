"""Server-rendered SVG line charts: no script and no inline style, so the page keeps the strict CSP."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 360, 150
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 10, 24


@dataclass(frozen=True)
class Point:
    label: str  # shown on hover (the run's date, model and value)
    value: float | None
    flagged: bool = False


def _format(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.2f}"


def line_chart(points: Sequence[Point], *, title: str, fixed_unit_range: bool) -> SafeString:
    """A line through the runs in order, oldest first; flagged points are drawn as larger red dots.

    ``fixed_unit_range``: the y axis is 0..1 (rates); otherwise 0..max (latencies)."""
    present = [p.value for p in points if p.value is not None]
    top = 1.0 if fixed_unit_range else max([*present, 1.0]) * 1.1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return LEFT + (i * step if len(points) > 1 else plot_w / 2)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - min(max(value / top, 0.0), 1.0))

    coordinates = [(x(i), y(p.value)) for i, p in enumerate(points) if p.value is not None]
    grid = format_html_join(
        "",
        '<line class="grid" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#d8dde3"/>'
        '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#5b6470">{}</text>',
        (
            (LEFT, f"{y(v):.1f}", WIDTH - RIGHT, f"{y(v):.1f}", LEFT - 4, f"{y(v) + 3:.1f}", _format(v))
            for v in (0.0, top / 2, top)
        ),
    )
    line = (
        format_html(
            '<polyline fill="none" stroke="#1f6feb" stroke-width="2" points="{}"/>',
            " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coordinates),
        )
        if len(coordinates) > 1
        else ""
    )
    dots = format_html_join(
        "",
        '<circle class="{}" cx="{}" cy="{}" r="{}" fill="{}"><title>{}</title></circle>',
        (
            (
                "point regression" if p.flagged else "point",
                f"{x(i):.1f}",
                f"{y(p.value):.1f}",
                5 if p.flagged else 3,
                "#d1242f" if p.flagged else "#1f6feb",
                p.label,
            )
            for i, p in enumerate(points)
            if p.value is not None
        ),
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}">'
        "<title>{}</title>{}{}{}</svg>",
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        title,
        title,
        grid,
        mark_safe(line),
        dots,
    )
