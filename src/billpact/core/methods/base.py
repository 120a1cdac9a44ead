"""What every pricing method receives, and what it gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from billpact.core.calendar import Period
from billpact.core.invoice import Finding, Line, Origin
from billpact.core.items import Ref
from billpact.core.ledger import Ledger
from billpact.core.money import Currency
from billpact.core.terms import Contract

ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class Billing:
    """The billing date being built: the contract, its period and the state before it."""

    contract: Contract
    billing_date: date
    period: Period
    currency: Currency
    ledger: Ledger
    retain_kinds: frozenset[str] = frozenset()   # the kinds retainage applies to on this billing date
    span: str = ""                               # the service period as descriptions name it

    def __post_init__(self) -> None:
        object.__setattr__(self, "span", f"{self.period.start.isoformat()} to {self.period.end.isoformat()}")

    def retainable(self, kind: str, amount: Decimal) -> Decimal:
        return amount if kind in self.retain_kinds else Decimal(0)


@dataclass(slots=True)
class Priced:
    lines: list[Line] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    consumed: list[Ref] = field(default_factory=list)

    def extend(self, other: Priced) -> None:
        self.lines += other.lines
        self.findings += other.findings
        self.consumed += other.consumed


def flat_line(billing: Billing, kind: str, description: str, amount: Decimal, taxable: bool, origin: Origin,
              sort_key: tuple[str, ...]) -> Line:
    """A line of quantity 1 whose unit price is its amount (every kind but time and resale)."""
    return Line(kind=kind, description=description, quantity=ONE, unit_price=amount, amount=amount,
                taxable=taxable, retainable=billing.retainable(kind, amount), origin=origin, sort_key=sort_key)


def label(name: str) -> str:
    return name.replace("_", " ")
