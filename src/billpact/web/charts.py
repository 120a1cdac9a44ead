"""Bar charts for the report pages, drawn on the server as inline SVG (no JavaScript, no chart library):
the geometry here, the drawing in templates/_charts.html (`bar_chart` macro)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from billpact.web.rendering import money

COLOURS = ("#1f3a5f", "#3e8e7e", "#c9a227")
# The chart's box (SVG user units): the plot sits inside the margins, labels in them.
WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 90, 20, 28, 34


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class BarChart:
    """What the template draws: bars, axis ticks, a legend and the chart's summary in words."""

    width: int
    height: int
    bars: list[Bar]
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    legend: list[tuple[float, str, str]]   # (x, colour, name)
    left: int
    right: int
    top: int
    bottom: int
    label: str


def bar_chart(groups: list[str], series: list[tuple[str, list[Decimal | None]]], currency: str,
              label: str) -> BarChart:
    """Grouped bars: one group per label on x, one bar per series (a None value draws no bar)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    highest = max((v for _name, values in series for v in values if v is not None), default=Decimal(0))
    top = highest if highest > 0 else Decimal(1)
    slot = plot_w / max(len(groups), 1)
    bar_w = slot * 0.8 / max(len(series), 1)

    def y(amount: Decimal) -> float:
        return float(TOP + plot_h - plot_h * amount / top)

    bars = [Bar(LEFT + slot * g + slot * 0.1 + bar_w * s, y(value), bar_w, HEIGHT - BOTTOM - y(value),
                COLOURS[s % len(COLOURS)], f"{name} {groups[g]}: {money(str(value), currency)}")
            for s, (name, values) in enumerate(series) for g, value in enumerate(values) if value is not None]
    y_ticks = [(y(top * k / 2), money(f"{top * k / 2:.2f}", currency)) for k in ((0, 1, 2) if highest else (0,))]
    x_ticks = [(LEFT + slot * (g + 0.5), name) for g, name in enumerate(groups)]
    legend = [(LEFT + 120.0 * s, COLOURS[s % len(COLOURS)], name) for s, (name, _values) in enumerate(series)]
    return BarChart(WIDTH, HEIGHT, bars, x_ticks, y_ticks, legend, LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM, label)
