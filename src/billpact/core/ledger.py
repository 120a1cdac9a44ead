"""What a contract has billed so far: the state every new billing date starts from.

The billing service reads it from approved and issued invoices; the engine
advances a copy of it through the drafts of one run, so each draft sees the
ones before it (cap room, held cuts, retainage held, items billed).
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from billpact.core.money import ZERO


@dataclass(slots=True)
class HeldCut:
    """An amount a cap cut and held, with the taxable and retainable parts it had when cut."""

    amount: Decimal
    taxable: Decimal
    retainable: Decimal
    released: Decimal = ZERO
    released_taxable: Decimal = ZERO
    released_retainable: Decimal = ZERO

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.released


@dataclass(slots=True)
class Ledger:
    last_fixed: date | None = None                  # billing date of the latest approved/issued record
    billed_by_kind: dict[str, Decimal] = field(default_factory=dict)   # net of credits, cap lines apart
    cap_adjustments: Decimal = ZERO                  # Σ cap_adjustment lines (cuts < 0, releases > 0)
    held: list[HeldCut] = field(default_factory=list)   # oldest first
    retainage_held: Decimal = ZERO                   # Σ retainage held on earlier invoices
    retainage_released: Decimal = ZERO               # Σ retainage_release lines
    billed_keys: set[str] = field(default_factory=set)  # generated items already billed
    progress_billed: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (term, item) -> Σ

    def copy(self) -> Ledger:
        return deepcopy(self)

    def capped_billed(self, kinds: frozenset[str]) -> Decimal:
        """B of spec §5: billed in the capped kinds, counting earlier cap adjustments."""
        return sum((self.billed_by_kind.get(k, ZERO) for k in kinds), ZERO) + self.cap_adjustments

    @property
    def held_total(self) -> Decimal:
        return sum((cut.remaining for cut in self.held), ZERO)

    @property
    def retainage_outstanding(self) -> Decimal:
        return self.retainage_held - self.retainage_released
