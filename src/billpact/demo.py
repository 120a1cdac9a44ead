"""`billpact demo`: a realistic, deterministic demo firm — every contract kind, four currencies,
six months of timesheets — imported and billed through the same services as real data."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from rich.table import Table
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from billpact.billing import service as billing
from billpact.cli.common import engine_for, fail, out, print_json, unit_of_work
from billpact.contracts.models import Contract
from billpact.credit_notes import service as credit_notes
from billpact.db.base import Base
from billpact.db.migrate import upgrade
from billpact.db.session import transaction
from billpact.importing.service import import_document
from billpact.invoices import service as invoices
from billpact.issue_log import service as issue_log
from billpact.payments import service as payments

PEOPLE = {
    "engineer": ["alice", "bruno", "chen", "dana"],
    "senior_engineer": ["elif", "farid"],
    "drafter": ["gita", "hugo"],
    "project_manager": ["ines"],
}

# Party details, so the demo's invoices are complete e-invoices (Peppol BIS 3): a UK seller with a GB VAT
# id, Companies House number, GLN electronic address and a (test) IBAN; clients in the countries of their
# currencies. Every id is made up but well formed (GLN check digits, IBAN mod 97, VAT id shapes).
ORGANIZATION_DETAILS: dict[str, Any] = {
    "address": {"lines": ["12 Clerkenwell Road"], "city": "London", "postcode": "EC1M 5PQ", "country": "GB"},
    "vat_id": "GB123456789", "legal_id": "09876543", "phone": "+44 20 7946 0123",
    "email": "billing@prime-engineering.example", "endpoint": {"scheme": "0088", "id": "5790000435968"},
    "bank": {"iban": "GB82WEST12345698765432", "bic": "NWBKGB2L", "account_name": "Prime Engineering Ltd",
             "bank_name": "Westminster Bank"},
}
CLIENT_DETAILS: dict[str, dict[str, Any]] = {
    "ACME": {"address": {"lines": ["400 Grid Avenue"], "city": "Springfield", "postcode": "62701", "region": "IL",
                         "country": "US"},
             "tax_id": "12-3456789", "endpoint": {"scheme": "0088", "id": "5400000000010"}},
    "BUILD": {"address": {"lines": ["77 Harbor Drive", "Suite 300"], "city": "Houston", "postcode": "77002",
                          "region": "TX", "country": "US"},
              "tax_id": "98-7654321", "endpoint": {"scheme": "0088", "id": "5400000000027"}},
    "GLOBEX": {"address": {"lines": ["Industriestraße 12"], "city": "Frankfurt am Main", "postcode": "60311",
                           "country": "DE"},
               "vat_id": "DE123456789", "legal_id": "HRB 123456",
               "endpoint": {"scheme": "0088", "id": "5400000000034"}},
    "HOOLI": {"address": {"lines": ["1 Canal Side", "Kings Cross"], "city": "London", "postcode": "N1C 4AG",
                          "country": "GB"},
              "vat_id": "GB987654321", "legal_id": "12345678", "endpoint": {"scheme": "0088", "id": "5400000000041"}},
    "KAIJU": {"address": {"lines": ["2-1 Marunouchi"], "city": "Chiyoda-ku, Tokyo", "postcode": "100-0005",
                          "country": "JP"},
              "legal_id": "1010001000001", "endpoint": {"scheme": "0088", "id": "5400000000058"}},
}


def document(start: date = date(2026, 1, 1), months: int = 6, seed: int = 2026) -> dict[str, Any]:
    """The demo as an import document (the same every time for the same arguments)."""
    rng = random.Random(seed)
    end = date(start.year + (start.month + months - 1) // 12, (start.month + months - 1) % 12 + 1, 1) - timedelta(1)
    rates = {"engineer": "150.00", "senior_engineer": "210.00", "drafter": "95.00", "project_manager": "180.00"}
    doc: dict[str, Any] = {
        "organization": {"name": "Prime Engineering Ltd", "currency": "USD", **ORGANIZATION_DETAILS},
        "clients": [
            {"id": "ACME", "name": "Acme Utilities", "currency": "USD", "payment_terms": "net30",
             "tax_rate": "0.08", "email": "ap@acme.example", **CLIENT_DETAILS["ACME"]},
            {"id": "BUILD", "name": "Buildco Contractors", "currency": "USD", "payment_terms": "net45",
             "tax_rate": "0", **CLIENT_DETAILS["BUILD"]},
            {"id": "GLOBEX", "name": "Globex GmbH", "currency": "EUR", "payment_terms": "due_on_receipt",
             "tax_rate": "0.19", **CLIENT_DETAILS["GLOBEX"]},
            {"id": "HOOLI", "name": "Hooli UK Ltd", "currency": "GBP", "payment_terms": "eom30", "tax_rate": "0.20",
             **CLIENT_DETAILS["HOOLI"]},
            {"id": "KAIJU", "name": "Kaiju Heavy Industries", "currency": "JPY", "payment_terms": "eom",
             "tax_rate": "0.10", **CLIENT_DETAILS["KAIJU"]},
        ],
        "contracts": [
            {"id": "C-100", "client": "ACME", "title": "Substation design (T&M, capped)", "start": str(start),
             "cycle": "monthly", "purchase_order": "PO-ACME-4471", "not_to_exceed": {"amount": "350000.00"},
             "terms": [{"kind": "time", "rates": rates, "overtime_multiplier": "1.5", "taxable": False},
                       {"kind": "expense", "markup": "0.10", "categories": ["travel", "lodging"]}]},
            {"id": "C-200", "client": "BUILD", "title": "Pump station (fixed fee, milestones, retainage)",
             "start": str(start), "end": str(end), "cycle": "monthly", "value": "180000.00",
             "retainage": {"rate": "0.05"},
             "terms": [{"kind": "fixed", "id": "FEE", "amount": "90000.00",
                        "schedule": [{"date": str(start + timedelta(days=30)), "percent": "0.3"},
                                     {"date": str(start + timedelta(days=90)), "percent": "0.3"},
                                     {"date": str(end), "percent": "0.4"}]},
                       {"kind": "milestone", "id": "M1", "name": "Concept accepted", "percent": "0.15"},
                       {"kind": "milestone", "id": "M2", "name": "Drawings issued", "amount": "25000.00",
                        "bill_on": "completed"}]},
            {"id": "C-300", "client": "GLOBEX", "title": "Plant support retainer + resale",
             "start": str(start + timedelta(days=14)), "cycle": "monthly", "buyer_reference": "04011000-12345-67",
             "terms": [{"kind": "recurring", "id": "SUPPORT", "amount": "3100.00", "timing": "advance"},
                       {"kind": "resale", "markup": "0.25"}]},
            {"id": "C-400", "client": "HOOLI", "title": "Data centre fit-out (progress billing)",
             "start": str(start), "cycle": "monthly", "purchase_order": "HOOLI-PO-2026-0042",
             "retainage": {"rate": "0.10", "kinds": ["progress"]},
             "terms": [{"kind": "progress", "items": {"foundations": "100000.00", "steel": "250000.00",
                                                      "fit_out": "150000.00"}}]},
            {"id": "C-500", "client": "KAIJU", "title": "Turbine study (weekly T&M)", "start": str(start),
             "cycle": "weekly",
             "terms": [{"kind": "time", "rates": {"engineer": "18000", "senior_engineer": "25000"}}]},
        ],
        "amendments": [
            {"contract": "C-100", "effective": str(start.replace(month=start.month + 3)),
             "set": {"terms.time.rates.engineer": "160.00"}, "note": "annual rate review"},
        ],
        "milestones": [
            {"contract": "C-200", "milestone": "M1", "completed": str(start + timedelta(days=40)),
             "accepted": str(start + timedelta(days=47))},
            {"contract": "C-200", "milestone": "M2", "completed": str(start + timedelta(days=100))},
        ],
        "resales": [
            {"contract": "C-300", "date": str(start + timedelta(days=40)), "item": "Server licence",
             "quantity": 3, "unit_cost": "400.00"},
            {"contract": "C-300", "date": str(start + timedelta(days=41)), "item": "Rugged router",
             "quantity": 1, "unit_price": "899.99", "unit_cost": "700.00"},
        ],
        "retainage_releases": [{"contract": "C-200", "date": str(end)}],
        "budgets": [{"contract": "C-100", "labor_hours": 3000, "labor_cost": "240000.00", "expenses": "8000.00"}],
        "cost_rates": [{"person": p, "rate": "70.00"} for names in PEOPLE.values() for p in names],
        "time": [], "expenses": [], "progress": [],
    }
    day, seq = start, 0
    while day <= end:
        if day.weekday() < 5:
            for contract, roles in (("C-100", ("engineer", "senior_engineer", "drafter", "project_manager")),
                                    ("C-500", ("engineer", "senior_engineer"))):
                for role in roles:
                    for person in PEOPLE[role]:
                        if rng.random() < 0.45:
                            seq += 1
                            hours = rng.choice(["2", "3.5", "4", "6", "7.5", "8"])
                            doc["time"].append({"id": f"T-{seq:05d}", "contract": contract, "date": str(day),
                                                "person": person, "role": role, "hours": hours,
                                                **({"overtime": True} if contract == "C-100" and
                                                   rng.random() < 0.03 else {})})
            if rng.random() < 0.08:
                doc["expenses"].append({"id": f"EXP-{len(doc['expenses']) + 1:04d}",   # the receipt reference
                                        "contract": "C-100", "date": str(day),
                                        "category": rng.choice(["travel", "lodging", "meals"]),
                                        "amount": f"{rng.randint(4000, 60000) / 100:.2f}"})
        day += timedelta(days=1)
    progress = {"foundations": 0, "steel": 0, "fit_out": 0}
    for month in range(months):
        report_day = date(start.year, start.month + month, 25)
        for item, step in (("foundations", 25), ("steel", 15), ("fit_out", 10 if month >= 2 else 0)):
            progress[item] = min(100, progress[item] + step)
            if step:
                doc["progress"].append({"contract": "C-400", "date": str(report_day), "item": item,
                                        "percent": f"{progress[item] / 100:.2f}"})
    return doc


def write_document(path: Path) -> None:
    path.write_text("# The billpact demo firm (`billpact demo --write`): load it with `billpact import`.\n"
                    + yaml.safe_dump(document(), sort_keys=False, allow_unicode=True), encoding="utf-8")
    out.print(f"wrote {path}", markup=False)


def _after_billing(session: Session) -> None:
    """What a billing team does next, so every screen has something to show: payments (one in
    full, one spread oldest first), a goodwill credit note and a disputed invoice."""
    payments.pay(session, "ACME", "73194.29", invoice="INV-000006", on=date(2026, 3, 1), reference="wire 4411")
    payments.pay(session, "KAIJU", "3000000", on=date(2026, 2, 20), reference="bank transfer 0220")
    credit_notes.credit(session, "INV-000003", credit_notes.Request(
        lines=[(1, Decimal("100.00"))], reason="goodwill", note="support hours over-reported", on=date(2026, 6, 30)))
    issue_log.dispute(session, "INV-000014", reason="client questions the hours of 2026-02-12", owner="billing")


def run_demo(db: str | None, through: date, reset: bool = False, as_json: bool = False) -> None:
    engine = engine_for(db, create=True)
    if reset:
        Base.metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(engine)
    with transaction(engine) as session:
        if session.scalar(select(func.count()).select_from(Contract)):
            fail(f"{engine.url.render_as_string(hide_password=True)} already holds contracts: "
                 "run the demo on another database (--db), or add --reset to drop everything in this one first")
    with unit_of_work(db) as session:
        summary = import_document(session, document())
        result = billing.run(session, through)
        issued = invoices.issue_drafts(session, through)
        views = invoices.views(session, issued)
        _after_billing(session)
    if as_json:
        print_json({"imported": {k: n for k, n in summary.counts.items() if n}, "through": through.isoformat(),
                    "invoices": views})
        return
    out.print(f"demo firm imported: {summary.counts['time']} time entries, {summary.counts['expenses']} expenses, "
              f"{len(document()['contracts'])} contracts; billed through {through}")
    table = Table(title=f"{len(views)} invoices issued")
    for column in ("number", "contract", "client", "invoice date", "due", "subtotal", "tax", "total",
                   "amount due", "cur"):
        table.add_column(column, justify="right" if column in ("subtotal", "tax", "total", "amount due") else "left")
    for v in views:
        table.add_row(str(v["number"]), str(v["contract"]), str(v["client"]), str(v["invoice_date"]),
                      str(v["due_date"]), str(v["subtotal"]), str(v["tax"]), str(v["total"]), str(v["amount_due"]),
                      str(v["currency"]))
    out.print(table)
    for contract, finding in result.findings:
        out.print(f"  {contract} {finding.billing_date}: {finding.reason}", markup=False)
    out.print("then: 2 payments, a credit note and a dispute recorded")
    out.print("next: `billpact invoices`, `billpact invoice INV-000001 --explain`, `billpact statement ACME`, "
              "`billpact billing-issue list`, `billpact audit log`")
