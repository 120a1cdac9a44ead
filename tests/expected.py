"""Compare invoices (JSON, as `billpact invoices --json` prints them) with a scenario's expected file."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

MONEY = ("subtotal", "tax", "retainage_held", "total", "amount_due")
HEAD = ("number", "contract", "client", "invoice_date", "due_date", "period_start", "period_end", "currency")
LINE = ("kind", "quantity", "unit_price", "amount", "taxable")


def _norm(field: str, value: Any) -> Any:
    if field in ("quantity", "unit_price", "amount", *MONEY):
        return Decimal(str(value))
    return bool(value) if field == "taxable" else str(value)


def differences(expected: list[dict[str, Any]], actual: list[dict[str, Any]], by: str = "number") -> list[str]:
    problems = []
    got = {str(inv.get(by)): inv for inv in actual}
    if len(actual) != len(expected):
        problems.append(f"expected {len(expected)} invoices, got {len(actual)}")
    for exp in expected:
        inv = got.get(str(exp[by]))
        if inv is None:
            problems.append(f"{exp[by]}: missing")
            continue
        for f in HEAD + MONEY:
            if f in exp and _norm(f, inv.get(f)) != _norm(f, exp[f]):
                problems.append(f"{exp[by]}.{f}: expected {exp[f]}, got {inv.get(f)}")
        remaining = list(inv["lines"])
        for eline in exp.get("lines", []):
            fields = [f for f in LINE if f in eline]
            match = next((line for line in remaining
                          if all(_norm(f, line[f]) == _norm(f, eline[f]) for f in fields)), None)
            if match is None:
                problems.append(f"{exp[by]}: no line {eline}")
            else:
                remaining.remove(match)
        problems += [f"{exp[by]}: unexpected line {line}" for line in remaining]
    return problems
