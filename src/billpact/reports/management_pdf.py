"""The management report as a PDF: the same `Management` the CLI, API and web page show, on paper.

The page furniture (styles, grid tables, amounts, numbered footer, paper size) is the invoice PDF's
(`documents.pdf`); the charts are ReportLab graphics (vector, no image library): billed, collected and
recognized per month as grouped bars, and the AR aging as bars per bucket. The areas of concern close
the report as a list of sentences, so a reader who skips the tables still sees them.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, ListFlowable, ListItem, Spacer
from sqlalchemy.orm import Session

from billpact.core.money import Currency
from billpact.documents.data import Party, seller
from billpact.documents.pdf import (
    ACCENT,
    MUTED,
    frame_width,
    grid,
    header_row,
    money,
    page_size,
    render,
    text,
)
from billpact.documents.statement_pdf import AGING_LABELS
from billpact.reports.management import NOT_AVAILABLE, Management, days, management

SERIES_COLOURS = (ACCENT, colors.HexColor("#3e8e7e"), colors.HexColor("#c9a227"))


def report_pdf(session: Session, period: str, currency: str | None = None) -> bytes:
    """The management report of a period as a PDF, headed with the organization's name."""
    party, _bank = seller(session)
    return management_pdf(management(session, period, currency), party)


def management_pdf(report: Management, party: Party) -> bytes:
    """The report's PDF: figures by month with a chart, rates, aging, cycle times, adjustments, KPIs, concerns."""
    pagesize = page_size(party, report.currency)
    width = frame_width(pagesize)
    digits = Currency.of(report.currency).exponent
    name = f"Management report {report.period}"
    story: list[Flowable] = [
        text(f"{party.name or 'billpact'}", "seller"), text("Management report", "title"),
        text(f"{report.period}: {report.start.isoformat()} to {report.end.isoformat()}, as of "
             f"{report.as_of.isoformat()}; amounts in {report.currency}", "number"),
        *_section("Billed, collected and recognized by month", [_months_table(report, digits, width),
                                                                Spacer(1, 3 * mm), _months_chart(report, width)]),
        *_section("Exchange rates used", _rates(report)),
        *_section("Not converted (no stored rate)", _missing(report, width)),
        *_section("AR aging", [_aging_table(report, digits, width), Spacer(1, 3 * mm), _aging_chart(report, width)]),
        *_section("Billing cycle time (days)", [_cycle_table(report, width)]),
        *_section("Adjustments by reason", _adjustments(report, digits, width)),
        *_section("KPIs against targets", _kpis(report, width)),
        *_section("Areas of concern", _concerns(report)),
        *([Spacer(1, 4 * mm), *(text(note, "small") for note in report.notes)] if report.notes else []),
    ]
    return render(story, pagesize=pagesize, title=name, author=party.name or "billpact",
                  footer=" · ".join(part for part in (party.name, name) if part))


def _latin(value: str) -> str:
    """The text with "→" spelled "->": the PDF's standard Helvetica (WinAnsi) has no arrow glyph."""
    return value.replace("→", "->")


def _section(heading: str, body: list[Flowable]) -> list[Flowable]:
    return [Spacer(1, 6 * mm), text(heading.upper(), "heading"), *body]


def _amount(value: Decimal | None, digits: int) -> str:
    return NOT_AVAILABLE if value is None else money(value, digits)


def _months_table(report: Management, digits: int, width: float) -> Flowable:
    rows: list[list[Any]] = [header_row(("Month", "Billed", "Collected", "Recognized"), 1)]
    rows += [[m.month, money(m.billed, digits), money(m.collected, digits), _amount(m.recognized, digits)]
             for m in report.months]
    totals = report.totals
    rows.append([text("Total", "strong"), *(_amount(totals[k], digits) for k in ("billed", "collected", "recognized"))])
    return grid(rows, [width * 0.25] * 4, numeric_from=1)


def bar_chart(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], width: float,
              height: float = 55 * mm) -> Drawing:
    """Grouped vertical bars, one colour per series, with a legend line under the plot."""
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 28, width - 60, height - 40
    chart.data = [list(values) or [0.0] for _name, values in series]
    chart.categoryAxis.categoryNames = list(labels) or [""]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.barSpacing, chart.groupSpacing = 1, 8
    for i, _series in enumerate(series):
        chart.bars[i].fillColor = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        chart.bars[i].strokeColor = None
    drawing.add(chart)
    x = 40.0
    for i, (name, _values) in enumerate(series):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        drawing.add(Rect(x, 5, 7, 7, fillColor=colour, strokeColor=None))
        drawing.add(String(x + 10, 6, name, fontSize=7, fillColor=colors.black))
        x += 5 * len(name) + 30
    return drawing


def _months_chart(report: Management, width: float) -> Drawing:
    series = [("billed", [float(m.billed) for m in report.months]),
              ("collected", [float(m.collected) for m in report.months])]
    if all(m.recognized is not None for m in report.months):
        series.append(("recognized", [float(m.recognized or 0) for m in report.months]))
    return bar_chart([m.month for m in report.months], series, width)


def _rates(report: Management) -> list[Flowable]:
    if not report.rates:
        return [text(f"None needed: every amount is in {report.currency}, or has no rate (below).")]
    return [text(rate.describe()) for rate in report.rates]


def _missing(report: Management, width: float) -> list[Flowable]:
    if not report.missing:
        return [text("Nothing: every amount is in the totals.")]
    rows: list[list[Any]] = [header_row(("Figure", "When", "Amount", "Why"), 2)]
    rows += [[m.figure, m.when, f"{money(m.amount, Currency.of(m.currency).exponent)} {m.currency}",
              text(_latin(m.reason), "small")] for m in report.missing]
    return [grid(rows, [width * s for s in (0.16, 0.24, 0.2, 0.4)], numeric_from=2)]


def _aging_table(report: Management, digits: int, width: float) -> Flowable:
    labels = [*AGING_LABELS.values(), "Total"]
    rows = [header_row(labels, 0), [*(money(report.aging[k], digits) for k in AGING_LABELS),
                                    money(report.aging_total, digits)]]
    return grid(rows, [width / len(labels)] * len(labels), numeric_from=0)


def _aging_chart(report: Management, width: float) -> Drawing:
    return bar_chart(list(AGING_LABELS.values()), [("open", [float(report.aging[k]) for k in AGING_LABELS])],
                     width, 45 * mm)


def _cycle_table(report: Management, width: float) -> Flowable:
    rows: list[list[Any]] = [header_row(("Span", "Cycles", "Median", "P90"), 1)]
    rows += [[_latin(f["label"]), str(f["count"]), days(f["median"]), days(f["p90"])]
             for f in report.cycle_times.values()]
    return grid(rows, [width * s for s in (0.4, 0.2, 0.2, 0.2)], numeric_from=1)


def _adjustments(report: Management, digits: int, width: float) -> list[Flowable]:
    if not report.adjustments:
        return [text("No credit notes in the period.")]
    rows: list[list[Any]] = [header_row(("Reason", "Credit notes", f"Value ({report.currency})"), 1)]
    rows += [[a.reason, str(a.count), _amount(a.value, digits)] for a in report.adjustments]
    return [grid(rows, [width * s for s in (0.5, 0.2, 0.3)], numeric_from=1)]


def _kpis(report: Management, width: float) -> list[Flowable]:
    if report.kpis is None:
        return [text("Not available.")]
    rows: list[list[Any]] = [header_row(("KPI", "Value", "Target", "Status"), 1)]
    rows += [[text(k.name, "small"), k.value, k.target or "—",
              "below target" if k.below else ("on target" if k.below is False else "—")] for k in report.kpis]
    return [grid(rows, [width * s for s in (0.46, 0.18, 0.18, 0.18)], numeric_from=1)]


def _concerns(report: Management) -> list[Flowable]:
    if not report.concerns:
        return [text("None.")]
    items = [ListItem(text(_latin(c)), leftIndent=10, value="•") for c in report.concerns]
    return [ListFlowable(items, bulletType="bullet", start="•", bulletColor=MUTED, leftIndent=10)]
