"""The AIA G702/G703 pay application of a progress contract billed over three months, checked the way a
client's quantity surveyor checks it: columns that add up, a percent that is completed ÷ scheduled, and a
current payment due that is the invoice's amount due less its tax."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from billpact.db.session import make_engine, transaction
from billpact.documents.pay_application import PayApplication, pay_application, pay_application_pdf
from billpact.errors import InvalidInput
from billpact.invoices import service as invoices
from tests.conftest import EXAMPLES
from tests.support import run

# Three items, 10 % retainage, 5 % tax; a change order raises roofing from 80 000 to 90 000 in March.
PIER = """
organization: {name: Keel & Beam Builders}
clients:
  - {id: PORT, name: Harbor Authority, currency: USD, payment_terms: net30, tax_rate: "0.05"}
contracts:
  - id: P-1
    client: PORT
    title: Pier rebuild
    start: 2026-01-01
    cycle: monthly
    retainage: {rate: "0.10"}
    terms:
      - {kind: progress, id: SOV, items: {foundations: "120000.00", steel_frame: "250000.00", roofing: "80000.00"}}
amendments:
  - {contract: P-1, effective: 2026-03-01, set: {terms.SOV.items.roofing: "90000.00"}, note: change order 1}
progress:
  - {contract: P-1, date: 2026-01-20, item: foundations, percent: "0.5"}
  - {contract: P-1, date: 2026-01-20, item: steel_frame, percent: "0.1"}
  - {contract: P-1, date: 2026-02-20, item: foundations, percent: "1"}
  - {contract: P-1, date: 2026-02-20, item: steel_frame, percent: "0.4"}
  - {contract: P-1, date: 2026-02-20, item: roofing, percent: "0.1"}
  - {contract: P-1, date: 2026-03-20, item: steel_frame, percent: "0.75"}
  - {contract: P-1, date: 2026-03-20, item: roofing, percent: "0.5"}
"""
D = Decimal


def billed_three_months(db: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "pier.yaml"
    path.write_text(PIER)
    run(db, "import", str(path))
    numbers = []
    for month_end in ("2026-01-31", "2026-02-28", "2026-03-31"):
        [invoice] = run(db, "bill", "--through", month_end, "--issue", "--date", month_end, "--json")
        numbers.append(invoice["number"])
    return numbers


def application(db: str, number: str) -> tuple[PayApplication, Decimal, Decimal]:
    """The pay application of an invoice, with the invoice's stored amount due and tax."""
    engine = make_engine(db)
    with transaction(engine) as session:
        invoice = invoices.find(session, number)
        found = pay_application(session, invoice), D(invoice.amount_due), D(invoice.tax)
    engine.dispose()
    return found


def test_the_third_application_adds_up_as_a_quantity_surveyor_checks_it(db: str, tmp_path: Path) -> None:
    *_, third = billed_three_months(db, tmp_path)
    app, amount_due, tax = application(db, third)
    assert app.application_no == 3
    by_item = {line.description: line for line in app.lines}
    assert list(by_item) == ["foundations", "steel frame", "roofing"]
    assert [(line.scheduled_value, line.previous, line.this_period, line.completed) for line in app.lines] == [
        (D("120000.00"), D("120000.00"), D("0"), D("120000.00")),
        (D("250000.00"), D("100000.00"), D("87500.00"), D("187500.00")),
        (D("90000.00"), D("8000.00"), D("37000.00"), D("45000.00")),
    ]
    for line in app.lines:
        assert line.previous + line.this_period + line.materials_stored == line.completed
        assert line.percent == (line.completed / line.scheduled_value * 100).quantize(D("0.01"))
        assert line.balance == line.scheduled_value - line.completed
        assert line.retainage == line.completed * D("0.10")   # 10 %, exact on these round figures
    assert by_item["steel frame"].percent == D("75.00") and by_item["roofing"].percent == D("50.00")
    s = app.summary
    assert (s.original_sum, s.change_orders, s.contract_sum) == (D("450000.00"), D("10000.00"), D("460000.00"))
    assert (s.completed, s.retainage, s.earned_less_retainage) == (D("352500.00"), D("35250.00"), D("317250.00"))
    # Previous certificates: January 85 000 − 8 500 and February 143 000 − 14 300.
    assert s.previous_certificates == D("205200.00")
    assert s.current_payment_due == s.earned_less_retainage - s.previous_certificates == D("112050.00")
    assert s.balance_with_retainage == s.contract_sum - s.earned_less_retainage == D("142750.00")
    # The invoice adds 5 % tax on the 124 500 billed this period; the AIA form has no tax line.
    assert tax == D("6225.00")
    assert s.current_payment_due + tax == amount_due == app.amount_due


def test_every_application_pays_its_invoice_less_tax(db: str, tmp_path: Path) -> None:
    for number in billed_three_months(db, tmp_path):
        app, amount_due, tax = application(db, number)
        assert app.summary.current_payment_due == amount_due - tax


def test_the_pdf_shows_the_items_and_the_summary(db: str, tmp_path: Path) -> None:
    *_, third = billed_three_months(db, tmp_path)
    app, _due, _tax = application(db, third)
    reader = PdfReader(BytesIO(pay_application_pdf(app)))
    assert len(reader.pages) >= 2
    g702, g703 = reader.pages[0].extract_text(), "\n".join(page.extract_text() for page in reader.pages[1:])
    for figure in ("450,000.00", "10,000.00", "460,000.00", "352,500.00", "35,250.00", "317,250.00",
                   "205,200.00", "112,050.00", "142,750.00"):
        assert figure in g702, figure
    assert "Current payment due" in g702 and "Harbor Authority" in g702
    for name in ("foundations", "steel frame", "roofing", "Grand total", "Description of work", "75.00 %"):
        assert name in g703, name


def test_the_g703_header_repeats_when_the_schedule_runs_onto_another_page(db: str, tmp_path: Path) -> None:
    items = ", ".join(f"item_{n:02d}: \"1000.00\"" for n in range(60))
    path = tmp_path / "long.yaml"
    path.write_text(f"""
clients:
  - {{id: PORT, name: Harbor Authority, currency: USD, payment_terms: net30}}
contracts:
  - {{id: P-2, client: PORT, start: 2026-01-01, retainage: {{rate: "0.10"}},
     terms: [{{kind: progress, items: {{{items}}}}}]}}
progress:
  - {{contract: P-2, date: 2026-01-20, item: item_00, percent: "0.5"}}
""")
    run(db, "import", str(path))
    [invoice] = run(db, "bill", "--through", "2026-01-31", "--issue", "--json")
    app, _due, _tax = application(db, invoice["number"])
    reader = PdfReader(BytesIO(pay_application_pdf(app)))
    sheets = [page.extract_text() for page in reader.pages[1:]]
    assert len(sheets) >= 2
    assert all("Description of work" in sheet for sheet in sheets)


def test_an_invoice_without_a_progress_term_is_refused(db: str) -> None:
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    run(db, "bill", "--through", "2026-01-31", "--issue")
    engine = make_engine(db)
    with transaction(engine) as session, pytest.raises(InvalidInput) as refused:
        pay_application(session, invoices.find(session, "INV-000001"))
    engine.dispose()
    assert refused.value.problems == ["invoice INV-000001: contract C-1 has no progress term; a pay application "
                                      "(AIA G702/G703) needs a schedule of values"]
