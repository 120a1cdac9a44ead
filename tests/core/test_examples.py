"""The engine alone (no database) reproduces every worked scenario of the spec."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from billpact.core.money import Currency
from billpact.importing.models import ImportFile
from tests.conftest import EXAMPLES
from tests.core.support import bill_document
from tests.expected import differences

SCENARIOS = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))


def _as_json(draft: Any) -> dict[str, Any]:
    cur = Currency.of(draft.currency)
    t = draft.totals
    return {
        "billing_date": draft.billing_date.isoformat(), "contract": draft.contract, "client": draft.client,
        "invoice_date": draft.billing_date.isoformat(), "due_date": draft.due_date.isoformat(),
        "period_start": draft.period_start.isoformat(), "period_end": draft.period_end.isoformat(),
        "currency": draft.currency,
        "lines": [{"kind": x.kind, "quantity": x.quantity, "unit_price": x.unit_price, "amount": x.amount,
                   "taxable": x.taxable} for x in draft.lines],
        **{k: cur.format(getattr(t, k)) for k in ("subtotal", "tax", "retainage_held", "total", "amount_due")},
    }


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_engine_reproduces_scenario(scenario: Path) -> None:
    expected = yaml.safe_load(scenario.with_name(scenario.stem + ".expected.yaml").read_text())
    doc = ImportFile.model_validate(yaml.safe_load(scenario.read_text()))
    through = expected["through"] if isinstance(expected["through"], dt.date) else dt.date.fromisoformat(
        expected["through"])
    drafts = [d for r in bill_document(doc, through).values() for d in r.drafts]
    want = [{**{k: v for k, v in inv.items() if k != "number"}, "billing_date": str(inv["invoice_date"])}
            for inv in expected["invoices"]]
    assert differences(want, [_as_json(d) for d in drafts], by="billing_date") == []
