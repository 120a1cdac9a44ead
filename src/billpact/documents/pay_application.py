"""A progress invoice as the pay application a construction client's quantity surveyor checks: the AIA
G702 summary (application and certificate for payment) and the G703 continuation sheet (the schedule of
values, item by item).

Nothing is re-priced: every figure comes from stored invoice and credit-note lines of the contract. Work
completed is the progress billed, net of credit notes dated on or before this invoice; retainage is each
invoice's stored retainage shared over its retainable lines (largest remainder, `core.credit.allocate`),
so the columns add up to the invoices to the cent and "current payment due" is this invoice's pre-tax
amount due. docs/pay-application.md says how each column is computed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import landscape, letter
from reportlab.lib.units import inch
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.billing.repository import contracts
from billpact.clients.models import Client
from billpact.contracts.models import Contract
from billpact.core.credit import allocate
from billpact.core.methods.base import label
from billpact.core.money import ZERO, Currency
from billpact.core.terms import Contract as CoreContract
from billpact.core.terms import ProgressTerm
from billpact.credit_notes.models import CreditNote, CreditNoteLine
from billpact.documents.pdf import money, text
from billpact.errors import InvalidInput
from billpact.invoices.models import FIXED_STATUSES, Invoice, InvoiceLine
from billpact.organization.models import Organization

HUNDRED = Decimal(100)
Key = tuple[str, str]   # (progress term key, schedule-of-values item)


@dataclass(frozen=True, slots=True)
class ScheduleLine:
    """One row of the G703 continuation sheet (columns A–I)."""

    item_no: int              # A
    description: str          # B
    scheduled_value: Decimal  # C
    previous: Decimal         # D: work completed, from previous applications (D + E of the last one)
    this_period: Decimal      # E: work completed this period
    materials_stored: Decimal  # F: materials presently stored, not in D or E (billpact bills none: 0)
    completed: Decimal        # G: total completed and stored to date (D + E + F)
    percent: Decimal          # G ÷ C, in percent
    balance: Decimal          # H: balance to finish (C − G)
    retainage: Decimal        # I: retainage held on the item to date


@dataclass(frozen=True, slots=True)
class Summary:
    """The G702 application for payment, lines 1–9."""

    original_sum: Decimal                  # 1
    change_orders: Decimal                 # 2: net change by change orders
    contract_sum: Decimal                  # 3: contract sum to date (1 + 2)
    completed: Decimal                     # 4: total completed and stored to date (G703 column G)
    retainage: Decimal                     # 5: retainage held to date, less releases
    earned_less_retainage: Decimal         # 6: 4 − 5
    previous_certificates: Decimal         # 7: line 6 of the previous application
    current_payment_due: Decimal           # 8: 6 − 7
    balance_with_retainage: Decimal        # 9: balance to finish including retainage (3 − 6)


@dataclass(frozen=True, slots=True)
class PayApplication:
    application_no: int
    invoice: str              # the invoice number (or a draft's id)
    period_to: date
    application_date: date
    contract: str
    contract_title: str
    owner: str
    contractor: str
    currency: str
    digits: int
    lines: tuple[ScheduleLine, ...]
    summary: Summary
    tax: Decimal              # on the invoice, outside the AIA forms
    amount_due: Decimal       # the invoice's amount due: current payment due + tax


@dataclass
class _Billed:
    """Progress work and its retainage per item, and retainage released, over some invoices."""

    work: dict[Key, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    retainage: dict[Key, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    released: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        """Work less the retainage still held: what these invoices certified for payment."""
        return sum(self.work.values(), ZERO) - (sum(self.retainage.values(), ZERO) - self.released)


# ---------------------------------------------------------------- the schedule of values


def _progress_items(core: CoreContract, version_no: int) -> dict[Key, Decimal]:
    """The schedule of values in force in one contract version: (term, item) → scheduled value."""
    return {(term.key, item): value for term in core.versions[version_no].terms if isinstance(term, ProgressTerm)
            for item, value in term.items.items()}


def _refuse_without_progress(core: CoreContract, invoice: Invoice) -> None:
    if not any(_progress_items(core, n) for n in range(len(core.versions))):
        raise InvalidInput([f"invoice {invoice.number or invoice.pk}: contract {core.id} has no progress term; a "
                            "pay application (AIA G702/G703) needs a schedule of values"], what="pay application")


# ---------------------------------------------------------------- what was billed


def _lines(session: Session, invoice: Invoice) -> list[InvoiceLine]:
    return list(session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_pk == invoice.pk)
                                .order_by(InvoiceLine.position)))


def _add_invoice(billed: _Billed, invoice: Invoice, lines: Sequence[InvoiceLine], currency: Currency) -> None:
    """An invoice's progress lines, its retainage shared over its retainable lines, its releases."""
    shares = allocate(Decimal(invoice.retainage_held), [Decimal(line.retainable) for line in lines], currency)
    for line, share in zip(lines, shares, strict=True):
        if line.kind == "progress":
            key = (line.term or "", line.subject or "")
            billed.work[key] += Decimal(line.amount)
            billed.retainage[key] += share
        elif line.kind == "retainage_release":
            billed.released += Decimal(line.amount)


def _subtract_credits(session: Session, billed: _Billed, invoices: Iterable[Invoice], through: date,
                      currency: Currency) -> None:
    """Credit notes dated on or before `through` against these invoices take back the progress work
    they credit and its share of the retainage they give back."""
    pks = [invoice.pk for invoice in invoices]
    notes = session.scalars(select(CreditNote).where(CreditNote.invoice_pk.in_(pks), CreditNote.date <= through)
                            .order_by(CreditNote.pk))
    for note in notes:
        rows = session.execute(select(CreditNoteLine, InvoiceLine)
                               .join(InvoiceLine, InvoiceLine.pk == CreditNoteLine.invoice_line_pk)
                               .where(CreditNoteLine.credit_note_pk == note.pk)
                               .order_by(CreditNoteLine.position)).all()
        shares = allocate(Decimal(note.retainage), [Decimal(row.retainable) for row, _line in rows], currency)
        for (row, line), share in zip(rows, shares, strict=True):
            if row.kind == "progress":
                key = (line.term or "", line.subject or "")
                billed.work[key] -= Decimal(row.amount)
                billed.retainage[key] -= share


def _billed(session: Session, invoices: Sequence[Invoice], through: date, currency: Currency) -> _Billed:
    billed = _Billed()
    for invoice in invoices:
        _add_invoice(billed, invoice, _lines(session, invoice), currency)
    _subtract_credits(session, billed, invoices, through, currency)
    return billed


def _previous_invoices(session: Session, invoice: Invoice) -> list[Invoice]:
    """The contract's approved or issued invoices of earlier billing dates: the previous applications."""
    return list(session.scalars(select(Invoice).where(Invoice.contract_pk == invoice.contract_pk,
                                                      Invoice.status.in_(FIXED_STATUSES),
                                                      Invoice.billing_date < invoice.billing_date,
                                                      Invoice.is_hold.is_(False))
                                .order_by(Invoice.billing_date)))


# ---------------------------------------------------------------- G703 and G702


def _percent(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole * HUNDRED).quantize(Decimal("0.01")) if whole else ZERO


def schedule(items: dict[Key, Decimal], previous: _Billed, current: _Billed) -> tuple[ScheduleLine, ...]:
    """The G703 rows: the items in force, then any item billed before that an amendment removed."""
    keys = list(items) + sorted(k for k in {*previous.work, *current.work} if k not in items)
    rows = []
    for number, key in enumerate(keys, start=1):
        scheduled = items.get(key, ZERO)
        before, now = previous.work.get(key, ZERO), current.work.get(key, ZERO)
        completed = before + now
        rows.append(ScheduleLine(number, label(key[1]), scheduled, before, now, ZERO, completed,
                                 _percent(completed, scheduled), scheduled - completed,
                                 previous.retainage.get(key, ZERO) + current.retainage.get(key, ZERO)))
    return tuple(rows)


def summary(original: Decimal, lines: Sequence[ScheduleLine], previous: _Billed, current: _Billed) -> Summary:
    """Lines 1–9 of the G702 from the G703 totals; line 7 is line 6 as the previous application had it."""
    contract_sum = sum((line.scheduled_value for line in lines), ZERO)
    completed = sum((line.completed for line in lines), ZERO)
    retainage = sum((line.retainage for line in lines), ZERO) - previous.released - current.released
    earned = completed - retainage
    return Summary(original, contract_sum - original, contract_sum, completed, retainage, earned, previous.net,
                   earned - previous.net, contract_sum - earned)


def pay_application(session: Session, invoice: Invoice) -> PayApplication:
    """The G702/G703 of a progress invoice; InvalidInput when its contract has no progress term."""
    contract = session.get_one(Contract, invoice.contract_pk)
    [stored] = contracts(session, [contract.code])
    core = stored.core
    _refuse_without_progress(core, invoice)
    currency = Currency.of(contract.currency)
    earlier = _previous_invoices(session, invoice)
    previous = _billed(session, earlier, invoice.invoice_date, currency)
    current = _billed(session, [invoice], invoice.invoice_date, currency)
    lines = schedule(_progress_items(core, core.version_no(invoice.billing_date)), previous, current)
    original = sum(_progress_items(core, 0).values(), ZERO)
    org = session.get(Organization, 1)
    return PayApplication(
        application_no=len(earlier) + 1, invoice=invoice.number or str(invoice.pk), period_to=invoice.period_end,
        application_date=invoice.invoice_date, contract=contract.code, contract_title=contract.title,
        owner=session.get_one(Client, invoice.client_pk).name, contractor=org.name if org else "",
        currency=contract.currency, digits=currency.exponent, lines=lines,
        summary=summary(original, lines, previous, current), tax=Decimal(invoice.tax),
        amount_due=Decimal(invoice.amount_due))


# ---------------------------------------------------------------- the PDF

G703_HEADER = (
    ("A", "B", "C", "D", "E", "F", "G", "", "H", "I"),
    ("Item no.", "Description of work", "Scheduled value", "From previous application (D + E)",
     "This period", "Materials presently stored (not in D or E)",
     "Total completed and stored to date (D + E + F)", "% (G ÷ C)", "Balance to finish (C − G)", "Retainage"),
)


def _money(app: PayApplication, amount: Decimal) -> str:
    return money(amount, app.digits)


def _heading(app: PayApplication, title: str) -> list[Paragraph]:
    return [text(title, "seller"),
            text(f"To owner: {app.owner}    From contractor: {app.contractor}    "
                 f"Contract: {app.contract} {app.contract_title}"),
            text(f"Application no. {app.application_no}    Invoice {app.invoice}    "
                 f"Application date {app.application_date.isoformat()}    "
                 f"Period to {app.period_to.isoformat()}    Currency {app.currency}")]


def _g702_rows(app: PayApplication) -> list[tuple[str, str]]:
    s = app.summary
    rows = [("1. Original contract sum", s.original_sum), ("2. Net change by change orders", s.change_orders),
            ("3. Contract sum to date (line 1 ± 2)", s.contract_sum),
            ("4. Total completed and stored to date (column G on G703)", s.completed),
            ("5. Retainage (column I on G703, less released)", s.retainage),
            ("6. Total earned less retainage (line 4 less line 5)", s.earned_less_retainage),
            ("7. Less previous certificates for payment (line 6 from prior certificate)",
             s.previous_certificates),
            ("8. Current payment due", s.current_payment_due),
            ("9. Balance to finish, including retainage (line 3 less line 6)", s.balance_with_retainage)]
    out = [(text, _money(app, amount)) for text, amount in rows]
    out += [("Tax on this invoice (not part of the AIA form)", _money(app, app.tax)),
            ("Amount due on the invoice (line 8 + tax)", _money(app, app.amount_due))]
    return out


def _g703_rows(app: PayApplication) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [
        (str(line.item_no), line.description, _money(app, line.scheduled_value), _money(app, line.previous),
         _money(app, line.this_period), _money(app, line.materials_stored), _money(app, line.completed),
         f"{line.percent:.2f} %", _money(app, line.balance), _money(app, line.retainage)) for line in app.lines]
    totals = [sum((getattr(line, name) for line in app.lines), ZERO)
              for name in ("scheduled_value", "previous", "this_period", "materials_stored", "completed")]
    balance = sum((line.balance for line in app.lines), ZERO)
    retainage = sum((line.retainage for line in app.lines), ZERO)
    rows.append(("", "Grand total", *(_money(app, t) for t in totals), f"{_percent(totals[4], totals[0]):.2f} %",
                 _money(app, balance), _money(app, retainage)))
    return rows


def _table_style(header_rows: int) -> TableStyle:
    return TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                       ("FONTSIZE", (0, 0), (-1, -1), 8),
                       ("VALIGN", (0, 0), (-1, -1), "TOP"),
                       ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.whitesmoke),
                       ("ALIGN", (2, header_rows), (-1, -1), "RIGHT")])


def pay_application_pdf(app: PayApplication) -> bytes:
    """The G702 summary on the first page, the G703 continuation sheet after it; the G703 column
    header repeats at the top of every page the table runs onto."""
    out = BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(letter), leftMargin=0.5 * inch, rightMargin=0.5 * inch,
                            topMargin=0.5 * inch, bottomMargin=0.5 * inch,
                            title=f"Pay application {app.application_no} — {app.contract}")
    g702 = Table(_g702_rows(app), colWidths=[6.5 * inch, 2 * inch])
    g702.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                              ("FONTNAME", (0, 7), (-1, 7), "Helvetica-Bold")]))
    header = [list(G703_HEADER[0]), [text(label, "small") for label in G703_HEADER[1]]]
    body = [[row[0], text(row[1], "small"), *row[2:]] for row in _g703_rows(app)]
    widths = [0.5, 2.4, 0.9, 0.9, 0.9, 0.8, 1.0, 0.6, 0.9, 0.8]
    g703 = Table(header + body, colWidths=[w * inch for w in widths], repeatRows=2)
    g703.setStyle(_table_style(2))
    doc.build([*_heading(app, "Application and certificate for payment (AIA G702 layout)"),
               Spacer(1, 12), g702, PageBreak(),
               *_heading(app, "Continuation sheet (AIA G703 layout)"), Spacer(1, 12), g703])
    return out.getvalue()
