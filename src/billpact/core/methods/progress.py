"""Progress billing on a schedule of values: value × cumulative percent − already billed (§4)."""

from __future__ import annotations

from collections.abc import Sequence

from billpact.core.invoice import Finding, Origin
from billpact.core.items import ProgressReport
from billpact.core.methods.base import Billing, Priced, flat_line, label
from billpact.core.money import ZERO
from billpact.core.terms import ProgressTerm


def price(billing: Billing, reports: Sequence[ProgressReport], history: Sequence[ProgressReport]) -> Priced:
    """Lines for the items that have a report on this billing date; `history` is every report."""
    out = Priced()
    by_item: dict[str, list[ProgressReport]] = {}
    for report in reports:
        out.consumed.append(report.ref)
        by_item.setdefault(report.item, []).append(report)
    for item, own in sorted(by_item.items()):
        known = [r for r in history if r.item == item and r.day <= billing.billing_date]
        latest = max(known, key=lambda r: (r.day, r.percent))
        version_no = billing.contract.version_no(latest.day)
        term = next((t for t in billing.contract.versions[version_no].of_kind("progress")
                     if isinstance(t, ProgressTerm) and item in t.items), None)
        if term is None:
            out.findings.append(Finding(billing.contract.id, billing.billing_date,
                                        f"progress item {item!r} has no progress term in force",
                                        refs=tuple(r.ref for r in own)))
            continue
        value = term.items[item]
        earned = billing.currency.quantize(value * latest.percent)
        already = billing.ledger.progress_billed.get((term.key, item), ZERO)
        amount = earned - already
        if amount <= 0:
            continue
        out.lines.append(flat_line(
            billing, "progress", f"{label(item)} — {latest.percent * 100:.2f} % complete — {billing.span}", amount,
            term.taxable,
            Origin(term.key, (version_no,), tuple(r.ref for r in own),
                   (f"{value} × {latest.percent} (report {latest.day.isoformat()}) = {earned}",
                    f"{earned} − {already} billed before = {amount}")),
            (item,)))
    return out
