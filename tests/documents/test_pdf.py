"""The invoice, credit note and statement PDFs, read back as text with pypdf: every figure the client
pays from is printed as stored, drafts say DRAFT, long invoices repeat their header on every page,
hostile text prints verbatim, and a EUR invoice to a seller with an IBAN carries the EPC payment code."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader

from billpact.db.session import make_engine, transaction
from billpact.documents.data import Document, Line, find_document
from billpact.documents.pdf import document_pdf, epc_payload, money
from billpact.documents.statement_pdf import statement_pdf
from tests.conftest import EXAMPLES
from tests.support import run

SELLER = """
organization:
  name: Prime Engineering GmbH
  currency: EUR
  address: {lines: ["Hauptstraße 5"], city: Berlin, postcode: "10115", country: DE}
  vat_id: DE123456789
  email: billing@prime.example
  bank: {iban: DE89370400440532013000, bic: COBADEFFXXX, account_name: Prime Engineering GmbH}
  payment_note: Please pay by SEPA transfer.
"""

EURO_CLIENT = """
clients:
  - id: EURO
    name: Euro Kunde AG
    currency: EUR
    payment_terms: net14
    tax_rate: "0.19"
    vat_id: DE987654321
    address: {lines: ["Marktplatz 1"], city: München, postcode: "80331", country: DE}
contracts:
  - id: C-EU
    client: EURO
    title: Pump study
    start: 2026-01-01
    cycle: monthly
    purchase_order: PO-4711
    terms: [{kind: time, rates: {engineer: "120.00"}}]
time:
  - {contract: C-EU, date: 2026-01-12, person: anna, role: engineer, hours: 10}
"""

HOSTILE = "<script>alert(1)</script> & co"


def pages(pdf: bytes) -> list[str]:
    """Each page's text, runs of white space (cell and line breaks) made one space."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def document(db: str, reference: str) -> Document:
    engine = make_engine(db)
    with transaction(engine) as session:
        found = find_document(session, reference)
    engine.dispose()
    return found


def imported(db: str, tmp_path: Path, *texts: str) -> None:
    for i, body in enumerate(texts):
        path = tmp_path / f"extra-{i}.yaml"
        path.write_text(body)
        run(db, "import", str(path))


def tm_basic(db: str, tmp_path: Path) -> None:
    """tm-basic (ACME, USD, tax on expenses) billed and issued, sold by the German seller above."""
    imported(db, tmp_path, SELLER)
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    run(db, "bill", "--through", "2026-02-28", "--issue")


def test_an_invoice_prints_its_parties_dates_lines_and_totals(db: str, tmp_path: Path) -> None:
    tm_basic(db, tmp_path)
    invoice = document(db, "INV-000001")
    [page] = pages(document_pdf(invoice))
    for expected in ("INVOICE", "INV-000001", "Issue date", "2026-01-31", "Due date", "2026-03-02",
                     "2026-01-01 – 2026-01-31", "C-1", "Feeder study", "Acme Utilities", "Client ID ACME",
                     "Prime Engineering GmbH", "Hauptstraße 5", "10115 Berlin", "Germany", "VAT ID DE123456789",
                     # the lines under their kind, amounts as printed (grouped, two digits)
                     "Time", "Expenses", "15.5 h", "2,325.00", "1,260.00", "630.00", "453.53", "198.00",
                     "Subtotal 4,866.53", "Tax 8% (standard rate) on 651.53 52.12", "Total 4,918.65",
                     "Amount due USD 4,918.65", "Exempt from tax under the contract terms",
                     "IBAN DE89 3704 0044 0532 0130 00", "BIC COBADEFFXXX", "Please pay by SEPA transfer.",
                     "Prime Engineering GmbH · Invoice INV-000001", "Page 1 of 1"):
        assert expected in page, expected
    assert all(money(line.amount, 2) in page for line in invoice.lines)
    assert "DRAFT" not in page and "Scan to pay" not in page   # USD: no SEPA code
    assert page.index("Time") < page.index("2,325.00") < page.index("Expenses") < page.index("453.53")


def test_a_credit_note_names_the_invoice_it_credits_and_why(db: str, tmp_path: Path) -> None:
    tm_basic(db, tmp_path)
    run(db, "credit", "INV-000001", "--line", "4", "--reason", "rate_error", "--date", "2026-03-02")
    [page] = pages(document_pdf(document(db, "CN-000001")))
    for expected in ("CREDIT NOTE", "CN-000001", "Credits invoice INV-000001",
                     "This credit note credits invoice INV-000001 dated 2026-01-31.", "Reason: rate_error",
                     "198.00", "Tax 8% (standard rate) on 198.00 15.84", "Amount credited USD 213.84",
                     "Acme Utilities"):
        assert expected in page, expected
    assert "PAYMENT" not in page   # a credit note is not paid


def test_a_draft_says_draft_and_has_no_number(db: str) -> None:
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    [draft, _] = run(db, "bill", "--through", "2026-02-28", "--json")
    text = pages(document_pdf(document(db, str(draft["id"]))))[0]
    assert "DRAFT" in text and "Invoice (DRAFT)" in text
    assert "INV-0" not in text and "Please quote" not in text


def test_a_long_invoice_breaks_across_pages_and_repeats_its_header(db: str, tmp_path: Path) -> None:
    tm_basic(db, tmp_path)
    invoice = document(db, "INV-000001")
    lines = tuple(Line(i, "time" if i <= 200 else "expense", f"line {i:03d}", Decimal(2), "HUR", Decimal("12.50"),
                       Decimal("25.00"), False, "E", Decimal(0)) for i in range(1, 401))
    long = replace(invoice, lines=lines, taxes=(), subtotal=Decimal("10000.00"), tax=Decimal(0),
                   total=Decimal("10000.00"), amount_due=Decimal("10000.00"))
    texts = pages(document_pdf(long))
    assert len(texts) > 1
    for n, page in enumerate(texts, 1):
        assert "Description Quantity Unit price Amount (USD)" in page, n
        assert f"Invoice INV-000001 Page {n} of {len(texts)}" in page, n
    everything = "\n".join(texts)
    assert all(f"line {i:03d}" in everything for i in range(1, 401))
    assert "Amount due USD 10,000.00" in texts[-1]


def test_hostile_text_prints_verbatim(db: str, tmp_path: Path) -> None:
    tm_basic(db, tmp_path)
    invoice = document(db, "INV-000001")
    lines = (replace(invoice.lines[0], description=HOSTILE), *invoice.lines[1:])
    hostile = replace(invoice, lines=lines, contract_title="R&D <b>bold</b>", notes=("Tom & Jerry <i>",))
    text = pages(document_pdf(hostile))[0]
    assert HOSTILE in text and "R&D <b>bold</b>" in text and "Tom & Jerry <i>" in text


def test_a_eur_invoice_to_an_iban_carries_the_epc_payment_code(db: str, tmp_path: Path) -> None:
    imported(db, tmp_path, SELLER + EURO_CLIENT)
    run(db, "bill", "--through", "2026-01-31", "--issue")
    invoice = document(db, "INV-000001")
    assert epc_payload(invoice) == "\n".join([
        "BCD", "002", "1", "SCT", "COBADEFFXXX", "Prime Engineering GmbH", "DE89370400440532013000",
        "EUR1428.00", "", "", "INV-000001"])
    pdf = document_pdf(invoice)
    text = pages(pdf)[0]
    assert "Scan to pay (SEPA)" in text and "Purchase order PO-4711" in text and "München" in text
    assert "Amount due EUR 1,428.00" in text and "Terms: Net 14 days" in text
    assert round(float(PdfReader(io.BytesIO(pdf)).pages[0].mediabox.width)) == 595   # A4 for a German seller
    # no code without an IBAN, without a number or in another currency
    assert epc_payload(replace(invoice, bank=None)) is None
    assert epc_payload(replace(invoice, number=None)) is None
    assert epc_payload(replace(invoice, currency="USD")) is None
    assert "Scan to pay" not in pages(document_pdf(replace(invoice, currency="CHF")))[0]


def test_amounts_keep_the_currency_digits() -> None:
    assert money(Decimal("889900"), 0) == "889,900"                # JPY
    assert money(Decimal("1234.5"), 2) == "1,234.50"
    assert money(Decimal("-22924.89"), 2) == "-22,924.89"
    assert money(Decimal("12.345"), 3) == "12.345"                 # KWD


def test_the_statement_pdf_shows_open_invoices_balance_and_contracts(db: str, tmp_path: Path) -> None:
    tm_basic(db, tmp_path)
    run(db, "pay", "--client", "ACME", "--amount", "1000", "--invoice", "INV-000001", "--date", "2026-03-05")
    engine = make_engine(db)
    with transaction(engine) as session:
        pdf = statement_pdf(session, "ACME", date(2026, 3, 15))
    engine.dispose()
    text = "\n".join(pages(pdf))
    # open: 4918.65 − 1000 + 156.29 = 4074.94; INV-000001 is 13 days late on 2026-03-15
    for expected in ("STATEMENT", "Acme Utilities", "Client ID ACME", "2026-03-15", "INV-000001", "INV-000002",
                     "INV-000001 C-1 2026-01-31 2026-03-02 4,918.65 1,000.00 0.00 3,918.65 13",
                     "Balance USD 4,074.94", "Open on invoices 4,074.94", "Unapplied credit 0.00",
                     "Current", "Over 90 days", "Opening balance 5,074.94", "-1,000.00",
                     "C-1", "Feeder study", "5,014.02", "Prime Engineering GmbH", "Page 1 of"):
        assert expected in text, expected
