"""Import documents that break exactly one validation rule each, with the problem they must give.

Each document is small and complete (it carries the client and contract it needs) and is
otherwise valid, so a test can check that importing it loads nothing. Values are strings,
numbers and lists only, so a document can be written out as YAML or JSON as it is.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BadDocument:
    name: str
    document: dict[str, Any]
    path: str  # the path of the expected Problem, exactly
    message_part: str  # a substring of the expected Problem's message


# ---------------------------------------------------------------- building blocks (fresh copies)


def client(**fields: Any) -> dict[str, Any]:
    return {
        "id": "ACME",
        "name": "Acme Utilities",
        "currency": "USD",
        "payment_terms": "net30",
        "tax_rate": "0.00",
        **fields,
    }


def time_term(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "time",
        "rates": {"engineer": "150.00", "senior_engineer": "210.00"},
        "overtime_multiplier": "1.5",
        **fields,
    }


def contract(**fields: Any) -> dict[str, Any]:
    """C-1 for ACME, 2026, with time, expense and resale terms."""
    return copy.deepcopy(
        {
            "id": "C-1",
            "client": "ACME",
            "title": "Feeder study",
            "start": "2026-01-01",
            "end": "2026-12-31",
            "cycle": "monthly",
            "terms": [
                time_term(),
                {"kind": "expense", "markup": "0.10"},
                {"kind": "resale", "markup": "0.25"},
            ],
            **fields,
        }
    )


def fee(*schedule: dict[str, Any], amount: str = "120000.00") -> dict[str, Any]:
    return {
        "kind": "fixed",
        "id": "FEE",
        "amount": amount,
        "schedule": list(schedule)
        or [
            {"date": "2026-03-31", "percent": "0.25"},
            {"date": "2026-06-30", "percent": "0.25"},
            {"date": "2026-09-30", "percent": "0.50"},
        ],
    }


def fixed_contract(**fields: Any) -> dict[str, Any]:
    """C-F: a fixed fee FEE (25/25/50 %) and a milestone M1, value 250000.00."""
    return contract(
        **{
            "id": "C-F",
            "value": "250000.00",
            "terms": [
                fee(),
                {"kind": "milestone", "id": "M1", "name": "Design accepted", "amount": "20000.00"},
            ],
            **fields,
        }
    )


def progress_contract(**fields: Any) -> dict[str, Any]:
    """C-P: a schedule of values foundations / steel."""
    return contract(
        **{
            "id": "C-P",
            "terms": [{"kind": "progress", "items": {"foundations": "100000.00", "steel": "250000.00"}}],
            **fields,
        }
    )


def doc(
    *,
    clients: list[dict[str, Any]] | None = None,
    contracts: list[dict[str, Any]] | None = None,
    **lists: Any,
) -> dict[str, Any]:
    return copy.deepcopy({"clients": clients or [client()], "contracts": contracts or [contract()], **lists})


def entry(**fields: Any) -> dict[str, Any]:
    """A time entry: alice, engineer, 7.5 h on 2026-01-12 on C-1."""
    return {
        "contract": "C-1",
        "date": "2026-01-12",
        "person": "alice",
        "role": "engineer",
        "hours": "7.5",
        **fields,
    }


def expense(**fields: Any) -> dict[str, Any]:
    return {"contract": "C-1", "date": "2026-01-20", "category": "travel", "amount": "412.30", **fields}


def resale(**fields: Any) -> dict[str, Any]:
    return {
        "contract": "C-1",
        "date": "2026-02-02",
        "item": "Rugged laptop",
        "quantity": "2",
        "unit_cost": "1200.00",
        **fields,
    }


def report(**fields: Any) -> dict[str, Any]:
    return {"contract": "C-P", "date": "2026-02-28", "item": "foundations", "percent": "0.40", **fields}


def milestone(**fields: Any) -> dict[str, Any]:
    return {
        "contract": "C-F",
        "milestone": "M1",
        "completed": "2026-03-10",
        "accepted": "2026-03-12",
        **fields,
    }


def release(**fields: Any) -> dict[str, Any]:
    return {"contract": "C-1", "date": "2026-11-30", **fields}


def payment(**fields: Any) -> dict[str, Any]:
    return {"client": "ACME", "date": "2026-03-02", "amount": "1000.00", "currency": "USD", **fields}


def amendment(**fields: Any) -> dict[str, Any]:
    return {"contract": "C-1", "effective": "2026-07-01", **fields}


def _bad(name: str, document: dict[str, Any], path: str, message_part: str) -> BadDocument:
    return BadDocument(name, document, path, message_part)


# ---------------------------------------------------------------- the table

_SHAPE = [
    _bad("unknown_key", doc(clients=[client(colour="red")]), "clients[0].colour", "unknown key"),
    _bad("unknown_top_level_key", doc(invoices=[]), "invoices", "unknown key"),
    _bad(
        "required_key_missing",
        doc(contracts=[{k: v for k, v in contract().items() if k != "start"}]),
        "contracts[0].start",
        "required",
    ),
    _bad(
        "rate_not_positive",
        doc(contracts=[contract(terms=[time_term(rates={"engineer": "-150.00"})])]),
        "contracts[0].terms[0].rates.engineer",
        "must be a positive decimal",
    ),
    _bad(
        "rate_not_a_number",
        doc(contracts=[contract(terms=[time_term(rates={"engineer": "lots"})])]),
        "contracts[0].terms[0].rates.engineer",
        "must be a positive decimal",
    ),
    _bad("hours_zero", doc(time=[entry(hours="0")]), "time[0].hours", "must be a positive decimal"),
    _bad(
        "expense_amount_negative",
        doc(expenses=[expense(amount="-5.00")]),
        "expenses[0].amount",
        "must be a positive decimal",
    ),
    _bad(
        "markup_negative",
        doc(contracts=[contract(terms=[time_term(), {"kind": "expense", "markup": "-0.1"}])]),
        "contracts[0].terms[1].markup",
        "zero or more",
    ),
    _bad("tax_rate_over_one", doc(clients=[client(tax_rate="8")]), "clients[0].tax_rate", "between 0 and 1"),
    _bad(
        "progress_percent_over_one",
        doc(contracts=[progress_contract()], progress=[report(percent="1.5")]),
        "progress[0].percent",
        "between 0 and 1",
    ),
    _bad(
        "retainage_rate_over_one",
        doc(contracts=[contract(retainage={"rate": "10"})]),
        "contracts[0].retainage.rate",
        "between 0 and 1",
    ),
    _bad(
        "installment_percent_negative",
        doc(contracts=[fixed_contract(terms=[fee({"date": "2026-03-31", "percent": "-1"})])]),
        "contracts[0].terms[0].schedule[0].percent",
        "between 0 and 1",
    ),
    _bad("bad_date", doc(time=[entry(date="2026-02-30")]), "time[0].date", "must be a date (YYYY-MM-DD)"),
    _bad(
        "bad_cycle",
        doc(contracts=[contract(cycle="daily")]),
        "contracts[0].cycle",
        "must be one of: monthly, quarterly, weekly",
    ),
    _bad(
        "bad_payment_terms",
        doc(clients=[client(payment_terms="30 days")]),
        "clients[0].payment_terms",
        "must be net<N>, eom, eom<N> or due_on_receipt",
    ),
    _bad(
        "unknown_term_kind",
        doc(contracts=[contract(terms=[time_term(), {"kind": "hourly"}])]),
        "contracts[0].terms[1].kind",
        "must be one of: time, expense",
    ),
    _bad(
        "term_without_kind",
        doc(contracts=[contract(terms=[{"rates": {"engineer": "150.00"}}])]),
        "contracts[0].terms[0].kind",
        "required",
    ),
    _bad("currency_not_a_code", doc(clients=[client(currency="usd")]), "clients[0].currency", "ISO 4217"),
    _bad(
        "empty_fixed_schedule",
        doc(contracts=[fixed_contract(terms=[{**fee(), "schedule": []}])]),
        "contracts[0].terms[0].schedule",
        "must not be empty",
    ),
    _bad(
        "contract_without_terms",
        doc(contracts=[contract(terms=[])]),
        "contracts[0].terms",
        "must not be empty",
    ),
    _bad(
        "id_not_text",
        doc(clients=[client(id=100)], contracts=[contract(client="100")]),
        "clients[0].id",
        "must be text",
    ),
    _bad("list_expected", doc(time={"contract": "C-1"}), "time", "must be a list"),
    _bad("overtime_not_boolean", doc(time=[entry(overtime="sometimes")]), "time[0].overtime", "true or false"),
]

_REFERENCES = [
    _bad(
        "unknown_client",
        doc(contracts=[contract(client="NOPE")]),
        "contracts[0].client",
        "unknown client 'NOPE'",
    ),
    _bad(
        "unknown_contract_of_amendment",
        doc(amendments=[amendment(contract="C-9", set={"title": "x"})]),
        "amendments[0].contract",
        "unknown contract 'C-9'",
    ),
    _bad(
        "unknown_contract_of_time",
        doc(time=[entry(contract="C-9")]),
        "time[0].contract",
        "unknown contract 'C-9'",
    ),
    _bad(
        "unknown_contract_of_expense",
        doc(expenses=[expense(contract="C-9")]),
        "expenses[0].contract",
        "unknown contract 'C-9'",
    ),
    _bad(
        "unknown_contract_of_milestone",
        doc(contracts=[fixed_contract()], milestones=[milestone(contract="C-9")]),
        "milestones[0].contract",
        "unknown contract 'C-9'",
    ),
    _bad(
        "unknown_contract_of_progress",
        doc(contracts=[progress_contract()], progress=[report(contract="C-9")]),
        "progress[0].contract",
        "unknown contract 'C-9'",
    ),
    _bad(
        "unknown_contract_of_resale",
        doc(resales=[resale(contract="C-9")]),
        "resales[0].contract",
        "unknown contract 'C-9'",
    ),
    _bad(
        "unknown_contract_of_retainage_release",
        doc(retainage_releases=[release(contract="C-9")]),
        "retainage_releases[0].contract",
        "unknown contract 'C-9'",
    ),
    _bad(
        "unknown_contract_of_budget",
        doc(budgets=[{"contract": "C-9", "labor_hours": "600"}]),
        "budgets[0].contract",
        "unknown contract 'C-9'",
    ),
    _bad(
        "unknown_milestone",
        doc(contracts=[fixed_contract()], milestones=[milestone(milestone="M9")]),
        "milestones[0].milestone",
        "unknown milestone 'M9'",
    ),
    _bad("unknown_role", doc(time=[entry(role="architect")]), "time[0].role", "unknown role 'architect'"),
    _bad(
        "role_not_on_amended_rate_card",
        doc(
            amendments=[amendment(set={"terms.time.rates": {"principal": "250.00"}})],
            time=[entry(date="2026-08-03")],
        ),
        "time[0].role",
        "unknown role 'engineer'",
    ),
    _bad(
        "unknown_progress_item",
        doc(contracts=[progress_contract()], progress=[report(item="roof")]),
        "progress[0].item",
        "unknown item 'roof'",
    ),
    _bad(
        "unknown_payment_client",
        doc(payments=[payment(client="NOPE")]),
        "payments[0].client",
        "unknown client 'NOPE'",
    ),
    _bad(
        "unknown_invoice",
        doc(payments=[payment(invoice="INV-000001")]),
        "payments[0].invoice",
        "unknown invoice 'INV-000001'",
    ),
]

_TERMS_IN_FORCE = [
    _bad(
        "time_without_time_term",
        doc(contracts=[contract(terms=[{"kind": "expense"}])], time=[entry()]),
        "time[0].date",
        "no time term",
    ),
    _bad(
        "expense_without_expense_term",
        doc(contracts=[contract(terms=[time_term()])], expenses=[expense()]),
        "expenses[0].date",
        "no expense term",
    ),
    _bad(
        "resale_without_resale_term",
        doc(contracts=[contract(terms=[time_term()])], resales=[resale()]),
        "resales[0].date",
        "no resale term",
    ),
    _bad(
        "progress_after_its_term_is_removed",
        doc(
            contracts=[
                progress_contract(
                    terms=[
                        time_term(),
                        {"kind": "progress", "id": "SOV", "items": {"foundations": "100000.00"}},
                    ]
                )
            ],
            amendments=[amendment(contract="C-P", remove=["SOV"])],
            progress=[report(date="2026-08-31")],
        ),
        "progress[0].date",
        "no progress term",
    ),
]

_DATES = [
    _bad("time_before_start", doc(time=[entry(date="2025-12-31")]), "time[0].date", "before the start"),
    _bad("expense_after_end", doc(expenses=[expense(date="2027-01-04")]), "expenses[0].date", "after the end"),
    _bad("resale_after_end", doc(resales=[resale(date="2027-01-04")]), "resales[0].date", "after the end"),
    _bad(
        "progress_before_start",
        doc(contracts=[progress_contract()], progress=[report(date="2025-12-31")]),
        "progress[0].date",
        "before the start",
    ),
    _bad(
        "time_after_amended_end",
        doc(
            amendments=[amendment(effective="2026-03-01", set={"end": "2026-06-30"})],
            time=[entry(date="2026-07-15")],
        ),
        "time[0].date",
        "after the end",
    ),
    _bad(
        "milestone_completed_before_start",
        doc(contracts=[fixed_contract()], milestones=[milestone(completed="2025-12-01", accepted=None)]),
        "milestones[0].completed",
        "before the start",
    ),
    _bad(
        "milestone_accepted_before_start",
        doc(contracts=[fixed_contract()], milestones=[milestone(completed=None, accepted="2025-12-01")]),
        "milestones[0].accepted",
        "before the start",
    ),
    _bad(
        "retainage_release_before_start",
        doc(retainage_releases=[release(date="2025-12-31")]),
        "retainage_releases[0].date",
        "before the start",
    ),
    _bad(
        "amendment_before_start",
        doc(amendments=[amendment(effective="2025-12-01", set={"title": "x"})]),
        "amendments[0].effective",
        "before the contract's start",
    ),
    _bad(
        "installment_after_end",
        doc(
            contracts=[
                fixed_contract(
                    terms=[fee({"date": "2026-03-31", "percent": "0.5"}, {"date": "2027-01-31", "percent": "0.5"})]
                )
            ]
        ),
        "contracts[0].terms[0].schedule[1].date",
        "outside the contract",
    ),
]

_TIME = [
    _bad(
        "hours_over_24_across_contracts",
        doc(
            contracts=[contract(), contract(id="C-2")],
            time=[entry(hours="16"), entry(contract="C-2", hours="8"), entry(contract="C-2", hours="0.5")],
        ),
        "time[2].hours",
        "24.5 hours",
    ),
    _bad(
        "overtime_without_multiplier",
        doc(
            contracts=[contract(terms=[{"kind": "time", "rates": {"engineer": "150.00"}}])],
            time=[entry(overtime=True)],
        ),
        "time[0].overtime",
        "no overtime_multiplier",
    ),
]

_SCHEDULES = [
    _bad(
        "installment_with_amount_and_percent",
        doc(contracts=[fixed_contract(terms=[fee({"date": "2026-03-31", "amount": "120000.00", "percent": "1"})])]),
        "contracts[0].terms[0].schedule[0]",
        "exactly one",
    ),
    _bad(
        "installment_with_neither",
        doc(contracts=[fixed_contract(terms=[fee({"date": "2026-03-31"})])]),
        "contracts[0].terms[0].schedule[0]",
        "exactly one",
    ),
    _bad(
        "schedule_does_not_add_up",
        doc(
            contracts=[
                fixed_contract(
                    terms=[
                        fee(
                            {"date": "2026-03-31", "percent": "0.25"},
                            {"date": "2026-06-30", "percent": "0.25"},
                            {"date": "2026-09-30", "percent": "0.40"},
                        )
                    ]
                )
            ]
        ),
        "contracts[0].terms[0].schedule",
        "add up to 108000.00, not to the fee 120000.00",
    ),
    _bad(
        "schedule_amounts_one_cent_short",
        doc(
            contracts=[
                fixed_contract(
                    terms=[
                        fee(
                            {"date": "2026-03-31", "amount": "60000.00"},
                            {"date": "2026-06-30", "amount": "59999.99"},
                        )
                    ]
                )
            ]
        ),
        "contracts[0].terms[0].schedule",
        "119999.99",
    ),
    _bad(
        "milestone_with_amount_and_percent",
        doc(contracts=[fixed_contract(terms=[{"kind": "milestone", "id": "M1", "amount": "1.00", "percent": "0.1"}])]),
        "contracts[0].terms[0]",
        "exactly one",
    ),
    _bad(
        "milestone_percent_without_value",
        doc(contracts=[contract(terms=[{"kind": "milestone", "id": "M1", "percent": "0.1"}])]),
        "contracts[0].terms[0].percent",
        "needs the contract's value",
    ),
]

_PROGRESS = [
    _bad(
        "two_progress_reports_same_date",
        doc(contracts=[progress_contract()], progress=[report(), report(percent="0.50")]),
        "progress[1].date",
        "a second report",
    ),
    _bad(
        "progress_going_down",
        doc(contracts=[progress_contract()], progress=[report(), report(date="2026-03-31", percent="0.30")]),
        "progress[1].percent",
        "goes down",
    ),
    _bad(
        "progress_going_down_listed_out_of_order",
        doc(contracts=[progress_contract()], progress=[report(date="2026-03-31", percent="0.30"), report()]),
        "progress[0].percent",
        "goes down",
    ),
    _bad(
        "progress_item_in_two_terms",
        doc(
            contracts=[
                progress_contract(
                    terms=[
                        {
                            "kind": "progress",
                            "id": "SOV-A",
                            "items": {"foundations": "100000.00", "steel": "1.00"},
                        },
                        {"kind": "progress", "id": "SOV-B", "items": {"steel": "250000.00"}},
                    ]
                )
            ]
        ),
        "contracts[0].terms[1].items.steel",
        "already in progress term",
    ),
]

_CURRENCIES_AND_EVENTS = [
    _bad(
        "organization_currency_not_iso",
        doc(organization={"name": "Prime", "currency": "XYZ"}),
        "organization.currency",
        "not an ISO 4217",
    ),
    _bad(
        "client_currency_not_iso",
        doc(clients=[client(currency="ABC")]),
        "clients[0].currency",
        "not an ISO 4217",
    ),
    _bad(
        "contract_currency_not_iso",
        doc(contracts=[contract(currency="EUX")]),
        "contracts[0].currency",
        "not an ISO 4217",
    ),
    _bad(
        "payment_currency_not_iso",
        doc(payments=[payment(currency="DOL")]),
        "payments[0].currency",
        "not an ISO 4217",
    ),
    _bad(
        "payment_without_invoice_or_currency",
        doc(payments=[payment(currency=None)]),
        "payments[0].currency",
        "required when the payment names no invoice",
    ),
    _bad(
        "retainage_release_percent_and_amount",
        doc(retainage_releases=[release(percent="0.5", amount="1000.00")]),
        "retainage_releases[0]",
        "not both",
    ),
    _bad(
        "milestone_event_without_dates",
        doc(contracts=[fixed_contract()], milestones=[milestone(completed=None, accepted=None)]),
        "milestones[0]",
        "completed or an accepted",
    ),
]

_CONTRACT_FIELDS = [
    _bad(
        "contract_ends_before_start",
        doc(contracts=[contract(end="2025-06-30")]),
        "contracts[0].end",
        "before the contract's start",
    ),
    _bad(
        "amendment_ends_contract_before_start",
        doc(amendments=[amendment(effective="2026-02-01", set={"end": "2025-12-31"})]),
        "amendments[0].set.end",
        "before the contract's start",
    ),
    _bad(
        "invoice_series_without_seq",
        doc(organization={"name": "Prime", "invoice_series": "INV-{year}"}),
        "organization.invoice_series",
        "{seq}",
    ),
    _bad(
        "credit_note_series_unknown_field",
        doc(organization={"name": "Prime", "credit_note_series": "CN-{client}-{seq}"}),
        "organization.credit_note_series",
        "unknown field {client}",
    ),
]

_AMENDMENTS = [
    _bad(
        "amendment_ambiguous_term",
        doc(
            contracts=[contract(terms=[time_term(id="T-A"), time_term(id="T-B", rates={"analyst": "90.00"})])],
            amendments=[amendment(set={"terms.time.rates": {"engineer": "160.00"}})],
        ),
        "amendments[0].set.terms.time.rates",
        "ambiguous",
    ),
    _bad(
        "amendment_removes_unknown_term",
        doc(amendments=[amendment(remove=["NOPE"])]),
        "amendments[0].remove[0]",
        "no term 'NOPE'",
    ),
    _bad(
        "amendment_sets_start",
        doc(amendments=[amendment(set={"start": "2026-02-01"})]),
        "amendments[0].set.start",
        "cannot be amended",
    ),
    _bad(
        "amendment_adds_existing_term_id",
        doc(
            contracts=[fixed_contract()],
            amendments=[amendment(contract="C-F", add=[{"kind": "milestone", "id": "M1", "amount": "5.00"}])],
        ),
        "amendments[0].add[0].id",
        "already in force",
    ),
    _bad(
        "amendment_makes_invalid_rate",
        doc(amendments=[amendment(set={"terms.time.rates.engineer": "-5"})]),
        "amendments[0].set",
        "not valid",
    ),
    _bad(
        "fixed_amount_amended_without_schedule",
        doc(
            contracts=[fixed_contract()],
            amendments=[amendment(contract="C-F", set={"terms.FEE.amount": "1.00"})],
        ),
        "amendments[0].set.terms.FEE.amount",
        "change together",
    ),
    _bad(
        "amended_schedule_does_not_add_up",
        doc(
            contracts=[fixed_contract()],
            amendments=[
                amendment(
                    contract="C-F",
                    set={
                        "terms.FEE.amount": "130000.00",
                        "terms.FEE.schedule": [
                            {"date": "2026-03-31", "percent": "0.25"},
                            {"date": "2026-06-30", "percent": "0.25"},
                            {"date": "2026-12-31", "amount": "60000.00"},
                        ],
                    },
                )
            ],
        ),
        "amendments[0].set.terms.FEE.schedule",
        "add up to 125000.00, not to the fee 130000.00",
    ),
    _bad(
        "amendment_removes_value_of_percent_milestone",
        doc(
            contracts=[fixed_contract(terms=[{"kind": "milestone", "id": "M1", "percent": "0.1"}])],
            amendments=[amendment(contract="C-F", set={"value": None})],
        ),
        "amendments[0]",
        "needs the contract's value",
    ),
]

_DUPLICATES = [
    _bad(
        "duplicate_client_id",
        doc(clients=[client(), client(name="Acme again")]),
        "clients[1].id",
        "duplicate id 'ACME'",
    ),
    _bad(
        "duplicate_contract_id",
        doc(contracts=[contract(), contract(title="again")]),
        "contracts[1].id",
        "duplicate id 'C-1'",
    ),
    _bad(
        "duplicate_term_id",
        doc(contracts=[fixed_contract(terms=[fee(), {"kind": "milestone", "id": "FEE", "amount": "5.00"}])]),
        "contracts[0].terms[1].id",
        "duplicate term id 'FEE'",
    ),
    _bad(
        "duplicate_time_id",
        doc(time=[entry(id="T-1"), entry(id="T-1", date="2026-01-13")]),
        "time[1].id",
        "duplicate id 'T-1'",
    ),
    _bad(
        "duplicate_expense_id",
        doc(expenses=[expense(id="E-1"), expense(id="E-1")]),
        "expenses[1].id",
        "duplicate id 'E-1'",
    ),
    _bad(
        "duplicate_milestone_event_id",
        doc(
            contracts=[fixed_contract()],
            milestones=[milestone(id="ME-1", accepted=None), milestone(id="ME-1", completed=None)],
        ),
        "milestones[1].id",
        "duplicate id 'ME-1'",
    ),
    _bad(
        "duplicate_progress_id",
        doc(contracts=[progress_contract()], progress=[report(id="P-1"), report(id="P-1", item="steel")]),
        "progress[1].id",
        "duplicate id 'P-1'",
    ),
    _bad(
        "duplicate_resale_id",
        doc(resales=[resale(id="R-1"), resale(id="R-1")]),
        "resales[1].id",
        "duplicate id 'R-1'",
    ),
    _bad(
        "duplicate_retainage_release_id",
        doc(retainage_releases=[release(id="RR-1"), release(id="RR-1", date="2026-12-31")]),
        "retainage_releases[1].id",
        "duplicate id 'RR-1'",
    ),
    _bad(
        "duplicate_payment_id",
        doc(payments=[payment(id="PAY-1"), payment(id="PAY-1")]),
        "payments[1].id",
        "duplicate id 'PAY-1'",
    ),
]

BAD_DOCUMENTS: list[BadDocument] = [
    *_SHAPE,
    *_REFERENCES,
    *_TERMS_IN_FORCE,
    *_DATES,
    *_TIME,
    *_SCHEDULES,
    *_PROGRESS,
    *_CURRENCIES_AND_EVENTS,
    *_CONTRACT_FIELDS,
    *_AMENDMENTS,
    *_DUPLICATES,
]

__all__ = ["BAD_DOCUMENTS", "BadDocument"]
