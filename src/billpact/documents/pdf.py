"""The PDF of an invoice or credit note: the page a client reads, files and pays from.

It draws one `Document` (see `data.py`), so it says what the e-invoices say, to the cent: nothing here
computes an amount, it only lays out the stored ones. ReportLab draws it from pure-Python wheels (no
system libraries); its `LongTable` breaks hundreds of lines across pages and repeats the column header,
and it has a QR code built in for the EPC (SEPA) payment code.

Amounts are printed with Babel in one locale (`LOCALE`) and exactly the currency's minor-unit digits
(JPY none, KWD three), so a printed amount is the stored one. Dates are ISO 8601: unambiguous to a
client on either side of the Atlantic. The helpers above `document_pdf` (styles, amounts, party blocks,
the numbered page canvas) are shared with the client statement (`statement_pdf.py`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any
from xml.sax.saxutils import escape

from babel import Locale
from babel.numbers import format_decimal
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from billpact.documents.data import Address, Bank, Document, Line, Party, TaxGroup

LOCALE = "en_US"   # the labels are English; so are the digit grouping and decimal point
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
RULE = colors.HexColor("#cbd2d9")
SHADE = colors.HexColor("#f0f4f8")
ACCENT = colors.HexColor("#243b53")
MARGIN: float = 18 * mm
FRAME_PADDING: float = 6   # SimpleDocTemplate's frame keeps 6 pt inside the margins

# The sub-heading of each kind of line, in the order they are printed.
KIND_HEADINGS = {
    "time": "Time", "expense": "Expenses", "fixed": "Fixed fee", "milestone": "Milestones",
    "recurring": "Recurring", "progress": "Progress", "resale": "Resale", "cap_adjustment": "Cap adjustments",
    "retainage_release": "Retainage released",
}
CATEGORY_NAMES = {
    "S": "standard rate", "Z": "zero rated", "E": "exempt", "AE": "reverse charge",
    "K": "intra-community supply", "G": "export outside the EU", "O": "not subject to VAT",
}
# Where Letter paper is the norm (the seller prints and posts it); A4 everywhere else.
LETTER_COUNTRIES = frozenset({"US", "CA", "MX", "PH", "CL", "CO", "VE", "GT", "CR", "PA", "DO", "PR", "SV"})
# Where the town line reads "City, REGION postcode" rather than "postcode City".
CITY_FIRST = frozenset({"US", "CA", "AU", "GB", "IE", "NZ", "PH", "SG", "IN", "ZA"})
LINE_COLUMNS = ("Description", "Quantity", "Unit price")


# ---------------------------------------------------------------- text and numbers


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()["Normal"]

    def style(name: str, **kw: Any) -> ParagraphStyle:
        return ParagraphStyle(name, parent=base, fontName=kw.pop("fontName", "Helvetica"),
                              fontSize=kw.pop("fontSize", 9), leading=kw.pop("leading", 11.5),
                              textColor=kw.pop("textColor", INK), **kw)

    return {
        "body": style("body"),
        "small": style("small", fontSize=7.5, leading=9.5, textColor=MUTED),
        "small_centre": style("small_centre", fontSize=7, leading=9, textColor=MUTED, alignment=TA_CENTER),
        "label": style("label", fontSize=7.5, leading=9.5, textColor=MUTED),
        "strong": style("strong", fontName="Helvetica-Bold"),
        "seller": style("seller", fontName="Helvetica-Bold", fontSize=14, leading=17, spaceAfter=2),
        "title": style("title", fontName="Helvetica-Bold", fontSize=22, leading=26, alignment=TA_RIGHT,
                       textColor=ACCENT),
        "number": style("number", fontName="Helvetica-Bold", fontSize=11, leading=14, alignment=TA_RIGHT),
        "draft": style("draft", fontName="Helvetica-Bold", fontSize=11, leading=14, alignment=TA_RIGHT,
                       textColor=colors.HexColor("#c62828")),
        "heading": style("heading", fontName="Helvetica-Bold", fontSize=8, leading=10, textColor=MUTED,
                         spaceAfter=3),
        "right": style("right", alignment=TA_RIGHT),
        "right_strong": style("right_strong", fontName="Helvetica-Bold", alignment=TA_RIGHT),
        "th": style("th", fontName="Helvetica-Bold", fontSize=8, leading=10, textColor=colors.white),
        "th_right": style("th_right", fontName="Helvetica-Bold", fontSize=8, leading=10, textColor=colors.white,
                          alignment=TA_RIGHT),
        "group": style("group", fontName="Helvetica-Bold", fontSize=8.5, leading=10.5, textColor=ACCENT),
        "due": style("due", fontName="Helvetica-Bold", fontSize=11, leading=14),
        "due_right": style("due_right", fontName="Helvetica-Bold", fontSize=11, leading=14, alignment=TA_RIGHT),
    }


STYLES = _styles()


def text(value: object, style: str = "body") -> Paragraph:
    """A paragraph of plain text: escaped, since ReportLab reads Paragraph text as markup (a description
    with `<` or `&` must print as written, never as a tag)."""
    return Paragraph(escape(str(value)), STYLES[style])


def markup(value: str, style: str = "body") -> Paragraph:
    """A paragraph whose caller escaped every piece of data in `value` and added only its own tags."""
    return Paragraph(value, STYLES[style])


def money(amount: Decimal, digits: int) -> str:
    """1234.5 → "1,234.50": grouped, with exactly the currency's minor-unit digits."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(amount, format=pattern, locale=LOCALE, decimal_quantization=True)


def price(amount: Decimal, digits: int) -> str:
    """A unit price: at least the currency's digits, and up to four more if the rate has them."""
    pattern = "#,##0." + "0" * digits + "#" * 4
    return format_decimal(amount, format=pattern, locale=LOCALE, decimal_quantization=True)


def quantity(line: Line) -> str:
    found = format_decimal(line.quantity, format="#,##0.####", locale=LOCALE)
    return f"{found} h" if line.unit == "HUR" else found


def day(value: date | None) -> str:
    return value.isoformat() if value else ""


def payment_terms(code: str) -> str:
    """net30 → "Net 30 days", eom15 → "15 days after the end of the month", as the client reads them."""
    if code == "due_on_receipt":
        return "Due on receipt"
    if code == "eom":
        return "End of the month"
    found = re.fullmatch(r"(net|eom)(\d+)", code)
    if not found:
        return code
    days = found.group(2)
    return f"Net {days} days" if found.group(1) == "net" else f"{days} days after the end of the month"


def country_name(code: str) -> str:
    return str(Locale.parse(LOCALE).territories.get(code, code))


# ---------------------------------------------------------------- blocks shared with the statement


def address_lines(address: Address | None) -> list[str]:
    if address is None:
        return []
    if address.country in CITY_FIRST:   # Oakland, CA 94607 — London EC1M 5PQ
        tail = " ".join(p for p in (address.region, address.postcode) if p)
        town = (", " if address.region else " ").join(part for part in (address.city, tail) if part)
    else:                               # 10115 Berlin
        town = ", ".join(part for part in (" ".join(p for p in (address.postcode, address.city) if p),
                                           address.region) if part)
    lines = [*address.lines, town]
    if address.country:
        lines.append(country_name(address.country))
    return [line for line in lines if line]


def party_lines(party: Party) -> list[str]:
    """Address, tax registrations and contact of a party, one line each (only what is known)."""
    ids = [("VAT ID", party.vat_id), ("Tax ID", party.tax_id), ("Company no.", party.legal_id)]
    contact = " · ".join(c for c in (party.email, party.phone) if c)
    return [*address_lines(party.address), *(f"{label} {value}" for label, value in ids if value),
            *([contact] if contact else [])]


def seller_block(party: Party) -> list[Flowable]:
    return [text(party.name or "", "seller"), *(text(line, "small") for line in party_lines(party))]


def buyer_block(heading: str, party: Party) -> list[Flowable]:
    lines = [line for line in party_lines(party) if line != party.email]
    if party.code:
        lines.append(f"Client ID {party.code}")
    return [text(heading.upper(), "heading"), text(party.name, "strong"), *(text(line) for line in lines)]


def details_table(rows: Sequence[tuple[str, str]], width: float, *, align_right: bool = True) -> Table:
    """Label–value pairs with the labels muted: the dates and references of a document (values flush
    right, under its title) or bank details (values flush left, read as a list)."""
    table = Table([[text(label, "label"), text(value, "right" if align_right else "body")] for label, value in rows],
                  colWidths=[width * 0.32, width * 0.68] if align_right else [width * 0.3, width * 0.7])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 1),
                                ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    return table


def two_columns(left: list[Flowable], right: list[Flowable], width: float, split: float = 0.55) -> Table:
    table = Table([[left, right]], colWidths=[width * split, width * (1 - split)])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def grid(rows: list[list[Any]], widths: Sequence[float], *, numeric_from: int, extra: Iterable[Any] = ()
         ) -> LongTable:
    """A table with a dark header row repeated on every page, thin rules between rows and the columns
    from `numeric_from` on right-aligned (amounts line up on their decimal point)."""
    table = LongTable(rows, colWidths=list(widths), repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), ACCENT), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"), ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("FONTSIZE", (0, 1), (-1, -1), 8.5), ("TEXTCOLOR", (0, 1), (-1, -1), INK), *extra]))
    return table


def header_row(labels: Sequence[str], numeric_from: int) -> list[Paragraph]:
    return [text(label, "th_right" if i >= numeric_from else "th") for i, label in enumerate(labels)]


class NumberedCanvas(Canvas):  # type: ignore[misc]
    """Holds every page back until the last is laid out, so each footer can say "Page N of M"; the
    footer also names the document, so a loose page can be put back."""

    def __init__(self, *args: Any, footer: str = "", watermark: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._watermark = watermark
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:   # ReportLab's name: called at the end of each page
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._draw_watermark()
            self._draw_footer(total)
            super().showPage()
        super().save()

    def _draw_footer(self, total: int) -> None:
        width, _ = self._pagesize
        self.saveState()
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        left, right = MARGIN + FRAME_PADDING, width - MARGIN - FRAME_PADDING
        self.line(left, 14 * mm, right, 14 * mm)
        self.setFont("Helvetica", 7.5)
        self.setFillColor(MUTED)
        self.drawString(left, 10 * mm, self._footer)
        self.drawRightString(right, 10 * mm, f"Page {self._pageNumber} of {total}")
        self.restoreState()

    def _draw_watermark(self) -> None:
        if not self._watermark:
            return
        width, height = self._pagesize
        self.saveState()
        self.setFont("Helvetica-Bold", 110)
        self.setFillColor(colors.Color(0.8, 0.16, 0.16, alpha=0.12))
        self.translate(width / 2, height / 2)
        self.rotate(35)
        self.drawCentredString(0, -35, self._watermark)
        self.restoreState()


def render(story: list[Flowable], *, pagesize: tuple[float, float], title: str, author: str, footer: str,
           watermark: str | None = None) -> bytes:
    """The PDF of a story of flowables, with the numbered footer on every page. `invariant` makes the
    same document give the same bytes (no creation time or random id in it)."""
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=pagesize, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=20 * mm, title=title, author=author, creator="billpact", invariant=True)
    maker: Callable[..., Canvas] = partial(NumberedCanvas, footer=footer, watermark=watermark)
    doc.build(story, canvasmaker=maker)
    return buffer.getvalue()


def frame_width(pagesize: tuple[float, float]) -> float:
    return float(pagesize[0]) - 2 * MARGIN - 2 * FRAME_PADDING


def page_size(seller: Party, currency: str) -> tuple[float, float]:
    """Letter where the seller is in the Americas' Letter countries (or, with no address, bills in USD or
    CAD); A4 otherwise."""
    country = seller.address.country if seller.address else None
    letter = country in LETTER_COUNTRIES if country else currency in ("USD", "CAD")
    found: tuple[float, float] = LETTER if letter else A4
    return found


# ---------------------------------------------------------------- the EPC payment code


def epc_payload(document: Document) -> str | None:
    """The EPC069-12 ("GiroCode", SEPA credit transfer) QR payload, or None when it cannot be used: only
    an issued EUR invoice with an amount due, to a seller with an IBAN. Lines: service tag BCD, version
    002, charset 1 (UTF-8), SCT, BIC, beneficiary name (≤ 70), IBAN, amount "EUR…", purpose (empty),
    structured reference (empty) and the unstructured remittance: the invoice number."""
    bank = document.bank
    if (document.kind != "invoice" or document.number is None or document.currency != "EUR" or bank is None
            or not bank.iban or not Decimal("0.01") <= document.amount_due <= Decimal("999999999.99")):
        return None
    name = (bank.account_name or document.seller.name)[:70]
    return "\n".join(["BCD", "002", "1", "SCT", bank.bic or "", name, bank.iban.replace(" ", ""),
                      f"EUR{document.amount_due:.2f}", "", "", document.number])


def qr_drawing(payload: str, size: float) -> Drawing:
    """The payload as a QR code `size` points square, error correction M (as EPC069-12 requires)."""
    widget = QrCodeWidget(payload, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


# ---------------------------------------------------------------- the invoice or credit note


def document_pdf(document: Document) -> bytes:
    """The PDF of an invoice or credit note (a draft is marked DRAFT and has no number)."""
    pagesize = page_size(document.seller, document.currency)
    width = frame_width(pagesize)
    story: list[Flowable] = [
        two_columns(seller_block(document.seller), _title_block(document), width),
        Spacer(1, 4 * mm),
        two_columns(buyer_block("Bill to", document.buyer), [details_table(_details(document), width * 0.45)],
                    width),
        Spacer(1, 5 * mm),
        *_credit_note_banner(document, width),
        _lines_table(document, width),
        Spacer(1, 3 * mm),
        _totals_table(document, width),
        *_payment_block(document, width),
        *_notes(document),
    ]
    name = _name(document)
    return render(story, pagesize=pagesize, title=name, author=document.seller.name,
                  footer=" · ".join(part for part in (document.seller.name, name) if part),
                  watermark="DRAFT" if document.number is None else None)


def _name(document: Document) -> str:
    return f"{document.title} {document.number}" if document.number else f"{document.title} (DRAFT)"


def _title_block(document: Document) -> list[Flowable]:
    title = text(document.title.upper(), "title")
    if document.number is None:
        return [title, text("DRAFT — not yet issued", "draft")]
    return [title, text(document.number, "number")]


def _details(document: Document) -> list[tuple[str, str]]:
    """Dates and references, only those the document has."""
    rows = [("Credit note date" if document.kind == "credit_note" else "Issue date", day(document.issue_date))]
    if document.due_date:
        rows.append(("Due date", day(document.due_date)))
    if document.period_start and document.period_end:
        rows.append(("Billing period", f"{day(document.period_start)} – {day(document.period_end)}"))
    if document.corrects:
        rows.append(("Credits invoice", document.corrects))
    rows.append(("Contract", document.contract))
    if document.contract_title:
        rows.append(("Project", document.contract_title))
    if document.purchase_order:
        rows.append(("Purchase order", document.purchase_order))
    if document.buyer_reference:
        rows.append(("Your reference", document.buyer_reference))
    rows.append(("Currency", document.currency))
    return rows


def _credit_note_banner(document: Document, width: float) -> list[Flowable]:
    """What a credit note corrects and why, above its lines: the first thing the client looks for."""
    if document.kind != "credit_note":
        return []
    dated = f" dated {day(document.corrects_date)}" if document.corrects_date else ""
    parts = [f"This credit note credits invoice <b>{escape(document.corrects or '')}</b>{escape(dated)}."]
    if document.reason:
        parts.append(f"Reason: {escape(document.reason)}")
    box = Table([[markup(" ".join(parts))]], colWidths=[width])
    box.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), SHADE), ("BOX", (0, 0), (-1, -1), 0.5, RULE),
                              ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 5)]))
    return [box, Spacer(1, 4 * mm)]


def _grouped(lines: Sequence[Line]) -> list[tuple[str, list[Line]]]:
    """Lines by kind, kinds in the printed order (any other kind after them), lines in position order."""
    order = {kind: i for i, kind in enumerate(KIND_HEADINGS)}
    groups: dict[str, list[Line]] = {}
    for line in sorted(lines, key=lambda ln: (order.get(ln.kind, len(order)), ln.kind, ln.position)):
        groups.setdefault(line.kind, []).append(line)
    return [(KIND_HEADINGS.get(kind, kind.replace("_", " ").capitalize()), found) for kind, found in groups.items()]


def _lines_table(document: Document, width: float) -> LongTable:
    """The lines under a sub-heading per kind; the header row repeats on every page."""
    rows: list[list[Any]] = [header_row([*LINE_COLUMNS, f"Amount ({document.currency})"], 1)]
    headings = []
    for heading, lines in _grouped(document.lines):
        headings.append(len(rows))
        rows.append([text(heading, "group"), "", "", ""])
        rows.extend([text(line.description), quantity(line), price(line.unit_price, document.digits),
                     money(line.amount, document.digits)] for line in lines)
    extra = [style for r in headings for style in (("SPAN", (0, r), (-1, r)), ("BACKGROUND", (0, r), (-1, r), SHADE))]
    return grid(rows, [width * 0.54, width * 0.13, width * 0.15, width * 0.18], numeric_from=1,
                extra=[("FONTSIZE", (1, 1), (-1, -1), 9), *extra])


def _tax_label(group: TaxGroup, digits: int) -> str:
    """"Tax 8% (standard rate) on 651.53", with the exemption reason below it in small print."""
    rate = f"{group.percent}% " if group.percent is not None else ""
    label = f"Tax {rate}({CATEGORY_NAMES.get(group.category, group.category)}) on {money(group.taxable_amount, digits)}"
    reason = f"<br/><font size='7' color='#616e7c'>{escape(group.exemption_reason)}</font>" \
        if group.exemption_reason else ""
    return escape(label) + reason


def _totals_rows(document: Document) -> list[tuple[Paragraph, str]]:
    digits = document.digits
    rows = [(text("Subtotal"), money(document.subtotal, digits))]
    rows.extend((markup(_tax_label(group, digits)), money(group.tax, digits)) for group in document.taxes)
    rows.append((text("Total", "strong"), money(document.total, digits)))
    if document.retainage:
        label = "Retainage released" if document.kind == "credit_note" else "Retainage held"
        rows.append((text(label), money(-document.retainage, digits)))
    return rows


def _totals_table(document: Document, width: float) -> Flowable:
    """Subtotal, tax per group, total, retainage and — set apart, in bold — the amount due."""
    due_label = "Amount credited" if document.kind == "credit_note" else "Amount due"
    rows: list[list[Any]] = [[label, text(value, "right")] for label, value in _totals_rows(document)]
    rows.append([text(due_label, "due"), text(f"{document.currency} {money(document.amount_due, document.digits)}",
                                               "due_right")])
    last = len(rows) - 1
    table = Table(rows, colWidths=[width * 0.38, width * 0.18], hAlign="RIGHT")
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEABOVE", (0, last), (-1, last), 1, ACCENT),
        ("BACKGROUND", (0, last), (-1, last), SHADE), ("TOPPADDING", (0, last), (-1, last), 5),
        ("BOTTOMPADDING", (0, last), (-1, last), 6), ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4)]))
    return KeepTogether([table])


def _iban(value: str) -> str:
    compact = value.replace(" ", "")
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def _bank_lines(bank: Bank | None) -> list[tuple[str, str]]:
    if bank is None:
        return []
    found = [("Account name", bank.account_name), ("Bank", bank.bank_name),
             ("IBAN", _iban(bank.iban) if bank.iban else None), ("BIC", bank.bic),
             ("Account number", bank.account_number), ("Routing number", bank.routing_number)]
    return [(label, value) for label, value in found if value]


def _payment_block(document: Document, width: float) -> list[Flowable]:
    """How to pay: the amount, the date, the terms, the bank account and the reference to quote; beside
    it the EPC QR code that a European banking app scans. A credit note is not paid: it has none."""
    if document.kind != "invoice":
        return []
    amount = f"{document.currency} {money(document.amount_due, document.digits)}"
    due = f" by <b>{escape(day(document.due_date))}</b>" if document.due_date else ""
    lines: list[Flowable] = [
        text("PAYMENT", "heading"),
        markup(f"Please pay <b>{escape(amount)}</b>{due}. Terms: {escape(payment_terms(document.payment_terms))}."),
    ]
    if document.number:
        lines.append(markup(f"Please quote <b>{escape(document.number)}</b> with your payment."))
    lines.append(Spacer(1, 2 * mm))
    rows = _bank_lines(document.bank)
    if rows:
        lines.append(details_table(rows, width * 0.6, align_right=False))
    if document.bank and document.bank.note:
        lines.extend([Spacer(1, 2 * mm), text(document.bank.note, "small")])
    payload = epc_payload(document)
    qr: list[Flowable] = [qr_drawing(payload, 28 * mm), text("Scan to pay (SEPA)", "small_centre")] if payload else []
    box = Table([[lines, qr]], colWidths=[width * 0.75, width * 0.25])
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.5, RULE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                              ("ALIGN", (1, 0), (1, 0), "CENTER"), ("TOPPADDING", (0, 0), (-1, -1), 6),
                              ("BOTTOMPADDING", (0, 0), (-1, -1), 6), ("LEFTPADDING", (0, 0), (-1, -1), 8),
                              ("RIGHTPADDING", (0, 0), (-1, -1), 8)]))
    return [Spacer(1, 5 * mm), KeepTogether([box])]


def _notes(document: Document) -> list[Flowable]:
    if not document.notes:
        return []
    return [Spacer(1, 5 * mm), text("NOTES", "heading"), *(text(note, "small") for note in document.notes)]
