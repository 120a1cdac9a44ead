"""Validation of import files: one test per rule (the BAD_DOCUMENTS table), plus stored-state rules."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from billpact.importing import models as m
from billpact.importing.loading import load_file
from billpact.importing.validate import Problem, StoredState, at, validate, validate_rules, validate_shape
from tests.importing.bad_documents import (
    BAD_DOCUMENTS,
    BadDocument,
    client,
    contract,
    doc,
    entry,
    progress_contract,
    report,
)

EXAMPLES = Path("/work/shared/spec/examples")


def problems_of(document: dict, stored: StoredState | None = None, *, upsert: bool = False) -> list[Problem]:
    return validate(copy.deepcopy(document), stored or StoredState(), upsert=upsert)[1]


@pytest.mark.parametrize("bad", BAD_DOCUMENTS, ids=[b.name for b in BAD_DOCUMENTS])
def test_bad_document_gives_its_problem(bad: BadDocument) -> None:
    problems = problems_of(bad.document)
    assert any(p.path == bad.path and bad.message_part in p.message for p in problems), (
        f"expected {bad.path}: ...{bad.message_part}...; got {[str(p) for p in problems]}"
    )


@pytest.mark.parametrize("bad", BAD_DOCUMENTS, ids=[b.name for b in BAD_DOCUMENTS])
def test_bad_document_is_otherwise_valid(bad: BadDocument) -> None:
    """Every problem of a table document is the one it is there for (a CLI test may rely on it)."""
    assert {p.path for p in problems_of(bad.document)} == {bad.path}


def test_table_names_are_unique() -> None:
    names = [b.name for b in BAD_DOCUMENTS]
    assert len(names) == len(set(names))


def test_good_base_document_is_valid() -> None:
    assert problems_of(doc(time=[entry()])) == []


@pytest.mark.parametrize(
    "example",
    sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml")),
    ids=lambda p: p.name,
)
def test_spec_examples_validate(example: Path) -> None:
    raw, load_problems = load_file(example)
    assert load_problems == []
    parsed, problems = validate(raw, StoredState())
    assert problems == []
    assert parsed is not None


# ---------------------------------------------------------------- reporting


def test_all_problems_are_reported_at_once() -> None:
    document = doc(
        contracts=[contract(client="NOPE")],
        time=[entry(role="architect"), entry(contract="C-9")],
        payments=[{"client": "ACME", "date": "2026-03-02", "amount": "5.00"}],
    )
    paths = {p.path for p in problems_of(document)}
    assert {"contracts[0].client", "time[0].role", "time[1].contract", "payments[0].currency"} <= paths


def test_all_shape_problems_are_reported_at_once() -> None:
    document = doc(clients=[client(tax_rate="2", colour="red", currency="usd")])
    paths = {p.path for p in problems_of(document)}
    assert paths == {"clients[0].tax_rate", "clients[0].colour", "clients[0].currency"}


def test_problem_string() -> None:
    assert (
        str(Problem("contracts[2].terms[0].rates.engineer", "must be a positive decimal"))
        == "contracts[2].terms[0].rates.engineer: must be a positive decimal"
    )
    assert str(Problem("", "the file is empty")) == "the file is empty"


def test_paths_quote_unusual_keys() -> None:
    assert at("contracts", 2, "terms", 0, "rates", "engineer") == "contracts[2].terms[0].rates.engineer"
    assert at("rates", "senior engineer") == 'rates["senior engineer"]'


def test_shape_problem_drops_the_union_tag() -> None:
    document = doc(
        contracts=[
            contract(
                terms=[
                    {"kind": "fixed", "amount": "1.00", "schedule": [{"date": "2026-01-31", "amount": "0"}]}
                ]
            )
        ]
    )
    _, problems = validate_shape(document)
    assert [str(p) for p in problems] == [
        "contracts[0].terms[0].schedule[0].amount: must be a positive decimal"
    ]


def test_top_level_must_be_a_mapping() -> None:
    parsed, problems = validate_shape(["clients"])
    assert parsed is None
    assert problems[0].path == "" and "mapping" in problems[0].message


def test_floats_become_exact_decimals() -> None:
    parsed, problems = validate(doc(time=[entry(hours=7.1)]), StoredState())
    assert problems == [] and parsed is not None
    assert parsed.time[0].hours == Decimal("7.1")


def test_exactly_24_hours_is_allowed() -> None:
    document = doc(time=[entry(hours="16"), entry(hours="8", role="senior_engineer")])
    assert problems_of(document) == []


def test_hours_over_24_reported_once_per_person_and_day() -> None:
    document = doc(
        time=[entry(hours="20"), entry(hours="5"), entry(hours="5"), entry(person="bob", hours="5")]
    )
    problems = problems_of(document)
    assert [p.path for p in problems] == ["time[1].hours"]
    assert "30 hours" in problems[0].message


def test_overtime_with_multiplier_is_fine() -> None:
    assert problems_of(doc(time=[entry(overtime=True)])) == []


def test_role_rate_amended_in_is_known_from_its_date() -> None:
    document = doc(
        amendments=[
            {"contract": "C-1", "effective": "2026-07-01", "set": {"terms.time.rates.principal": "250.00"}}
        ],
        time=[entry(role="principal", date="2026-07-01")],
    )
    assert problems_of(document) == []
    document["time"][0]["date"] = "2026-06-30"
    assert [p.path for p in problems_of(document)] == ["time[0].role"]


def test_fixed_schedule_amount_and_schedule_amended_together_is_fine() -> None:
    document = doc(
        contracts=[
            contract(
                id="C-F",
                terms=[
                    {
                        "kind": "fixed",
                        "id": "FEE",
                        "amount": "100.00",
                        "schedule": [{"date": "2026-03-31", "percent": "1"}],
                    }
                ],
            )
        ],
        amendments=[
            {
                "contract": "C-F",
                "effective": "2026-04-01",
                "set": {
                    "terms.FEE.amount": "150.00",
                    "terms.FEE.schedule": [
                        {"date": "2026-03-31", "amount": "100.00"},
                        {"date": "2026-06-30", "percent": "0.333333"},
                    ],
                },
            }
        ],
    )
    problems = problems_of(document)
    assert [p.path for p in problems] == ["amendments[0].set.terms.FEE.schedule"]  # 1/3 is not exact
    document["amendments"][0]["set"]["terms.FEE.schedule"][1] = {"date": "2026-06-30", "amount": "50.00"}
    assert problems_of(document) == []


def test_several_amendment_problems_are_all_reported() -> None:
    document = doc(
        amendments=[
            {"contract": "C-1", "effective": "2026-03-01", "remove": ["NOPE"]},
            {"contract": "C-1", "effective": "2026-04-01", "set": {"cycle": "weekly"}},
        ]
    )
    assert {p.path for p in problems_of(document)} == {"amendments[0].remove[0]", "amendments[1].set.cycle"}


def test_fixed_schedule_percent_and_amount_add_up_exactly() -> None:
    document = doc(
        contracts=[
            contract(
                id="C-F",
                terms=[
                    {
                        "kind": "fixed",
                        "id": "FEE",
                        "amount": "60000.01",
                        "schedule": [
                            {"date": "2026-01-15", "percent": "0.25"},
                            {"date": "2026-03-15", "amount": "15000.0025"},
                            {"date": "2026-05-31", "percent": "0.50"},
                        ],
                    }
                ],
            )
        ]
    )
    assert problems_of(document) == []


def test_progress_over_dates_going_up_is_fine() -> None:
    document = doc(
        contracts=[progress_contract()],
        progress=[report(date="2026-03-31", percent="0.60"), report(), report(item="steel")],
    )
    assert problems_of(document) == []


# ---------------------------------------------------------------- against the stored state


def stored_acme() -> StoredState:
    """ACME and C-1 already in the database."""
    return StoredState(
        clients={"ACME": m.Client.model_validate(client())},
        contracts={"C-1": m.Contract.model_validate(contract())},
    )


def test_events_may_refer_to_stored_client_and_contract() -> None:
    document = {
        "time": [entry()],
        "payments": [{"client": "ACME", "date": "2026-03-02", "amount": "1.00", "currency": "USD"}],
    }
    assert problems_of(document, stored_acme()) == []


def test_hours_over_24_with_stored_hours() -> None:
    stored = stored_acme()
    stored.hours[("alice", date(2026, 1, 12))] = Decimal("20")
    problems = problems_of({"time": [entry(hours="4")]}, stored)
    assert problems == []
    problems = problems_of({"time": [entry(hours="3"), entry(hours="1.5")]}, stored)
    assert [p.path for p in problems] == ["time[1].hours"]
    assert "24.5 hours" in problems[0].message


def test_duplicate_stored_ids() -> None:
    stored = stored_acme()
    stored.event_ids["time"] = {"T-1"}
    problems = problems_of(doc(time=[entry(id="T-1")]), stored)
    assert sorted(str(p) for p in problems) == [
        "clients[0].id: duplicate id 'ACME' (already stored)",
        "contracts[0].id: duplicate id 'C-1' (already stored)",
        "time[0].id: duplicate id 'T-1' (already stored)",
    ]


def test_upsert_allows_stored_ids_but_not_duplicates_within_the_file() -> None:
    stored = stored_acme()
    stored.event_ids["time"] = {"T-1"}
    stored.hours[("alice", date(2026, 1, 12))] = Decimal("16")  # T-1 is stored, with these hours
    document = doc(time=[entry(id="T-1", hours="16")])
    assert problems_of(document, stored, upsert=True) == []
    document["time"].append(entry(id="T-1", date="2026-01-13"))
    assert [str(p) for p in problems_of(document, stored, upsert=True)] == [
        "time[1].id: duplicate id 'T-1' (also time[0])"
    ]


def test_upsert_ignores_amendments_already_stored() -> None:
    amendment = {
        "contract": "C-1",
        "effective": "2026-07-01",
        "add": [{"kind": "milestone", "id": "M2", "amount": "10.00"}],
    }
    stored = stored_acme()
    stored.amendments["C-1"] = [m.Amendment.model_validate(amendment)]
    document = doc(amendments=[amendment])
    assert problems_of(document, stored, upsert=True) == []
    assert [p.path for p in problems_of(document, stored)] == [
        "clients[0].id",
        "contracts[0].id",
        "amendments[0].add[0].id",
    ]


def test_progress_going_down_against_stored() -> None:
    stored = StoredState(
        contracts={"C-P": m.Contract.model_validate(progress_contract())},
        clients={"ACME": m.Client.model_validate(client())},
    )
    stored.progress[("C-P", "foundations")] = [(date(2026, 2, 28), Decimal("0.40"))]
    problems = problems_of({"progress": [report(date="2026-03-31", percent="0.30")]}, stored)
    assert [p.path for p in problems] == ["progress[0].percent"]
    assert "goes down" in problems[0].message
    # a file report before a later stored one that is lower
    problems = problems_of({"progress": [report(date="2026-01-31", percent="0.50")]}, stored)
    assert [p.path for p in problems] == ["progress[0].percent"]
    # the same date as a stored report
    problems = problems_of({"progress": [report(percent="0.40")]}, stored)
    assert [str(p) for p in problems] == [
        "progress[0].date: a second report for item 'foundations' of contract C-P on 2026-02-28 "
        "(already stored)"
    ]
    assert problems_of({"progress": [report(date="2026-03-31", percent="0.45")]}, stored) == []


def test_progress_upsert_replaces_the_stored_report_of_its_id() -> None:
    stored = StoredState(
        contracts={"C-P": m.Contract.model_validate(progress_contract())},
        clients={"ACME": m.Client.model_validate(client())},
    )
    stored.progress[("C-P", "foundations")] = [(date(2026, 2, 28), Decimal("0.40"))]
    stored.event_ids["progress"] = {"P-1"}
    assert problems_of({"progress": [report(id="P-1")]}, stored, upsert=True) == []


def test_payment_for_an_issued_invoice() -> None:
    stored = stored_acme()
    stored.invoice_numbers.add("INV-000001")
    document = {
        "payments": [{"client": "ACME", "date": "2026-03-02", "amount": "1.00", "invoice": "INV-000001"}]
    }
    assert problems_of(document, stored) == []


def test_amendment_of_a_stored_contract_is_checked_against_its_versions() -> None:
    stored = stored_acme()
    stored.amendments["C-1"] = [
        m.Amendment.model_validate(
            {"contract": "C-1", "effective": "2026-03-01", "set": {"end": "2026-06-30"}}
        )
    ]
    problems = problems_of({"time": [entry(date="2026-07-01")]}, stored)
    assert [p.path for p in problems] == ["time[0].date"]


def test_validate_rules_directly() -> None:
    parsed, problems = validate_shape(doc(time=[entry(role="architect")]))
    assert parsed is not None and problems == []
    assert [p.path for p in validate_rules(parsed, StoredState())] == ["time[0].role"]
