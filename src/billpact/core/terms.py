"""Contract terms in force, and amendments turning one contract into dated versions.

A contract is a sequence of versions: the terms as written from `start`, then
the terms after each amendment from its effective date. Items are priced with
the version in force on the item's own date; invoice-level rules (cap,
retainage rate) use the version in force on the billing date (spec §8).
"""

from __future__ import annotations

import copy
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from billpact.core.calendar import ContractCalendar, Cycle

TermKind = Literal["time", "expense", "fixed", "milestone", "recurring", "progress", "resale"]
LINE_KINDS: tuple[str, ...] = (
    "time", "expense", "resale", "fixed", "milestone", "recurring", "progress", "cap_adjustment",
    "retainage_release",
)
DEFAULT_CAP_KINDS = frozenset({"time", "expense"})
DEFAULT_RETAINAGE_KINDS = frozenset({"time", "fixed", "milestone", "recurring", "progress"})
# Contract fields an amendment may set; the others (cycle, start, currency, client) define
# the contract's calendar and books and cannot change under issued invoices.
AMENDABLE_FIELDS = frozenset({"title", "end", "value", "payment_terms", "not_to_exceed", "retainage",
                              "purchase_order", "buyer_reference"})


class AmendmentError(ValueError):
    """An amendment that cannot be applied; `where` is the key it failed on."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


@dataclass(frozen=True, slots=True)
class TimeTerm:
    key: str
    rates: Mapping[str, Decimal]
    overtime_multiplier: Decimal | None = None
    taxable: bool = True
    kind: Literal["time"] = "time"


@dataclass(frozen=True, slots=True)
class ExpenseTerm:
    key: str
    markup: Decimal = Decimal(0)
    categories: frozenset[str] | None = None
    taxable: bool = True
    kind: Literal["expense"] = "expense"


@dataclass(frozen=True, slots=True)
class Installment:
    date: date
    amount: Decimal | None = None
    percent: Decimal | None = None


@dataclass(frozen=True, slots=True)
class FixedTerm:
    key: str
    amount: Decimal
    schedule: tuple[Installment, ...]
    name: str | None = None
    taxable: bool = True
    kind: Literal["fixed"] = "fixed"


@dataclass(frozen=True, slots=True)
class MilestoneTerm:
    key: str
    name: str | None = None
    amount: Decimal | None = None
    percent: Decimal | None = None
    bill_on: Literal["accepted", "completed"] = "accepted"
    taxable: bool = True
    kind: Literal["milestone"] = "milestone"


@dataclass(frozen=True, slots=True)
class RecurringTerm:
    key: str
    amount: Decimal
    timing: Literal["advance", "arrears"] = "arrears"
    name: str | None = None
    taxable: bool = True
    kind: Literal["recurring"] = "recurring"


@dataclass(frozen=True, slots=True)
class ProgressTerm:
    key: str
    items: Mapping[str, Decimal]
    taxable: bool = True
    kind: Literal["progress"] = "progress"


@dataclass(frozen=True, slots=True)
class ResaleTerm:
    key: str
    markup: Decimal = Decimal(0)
    taxable: bool = True
    kind: Literal["resale"] = "resale"


Term = TimeTerm | ExpenseTerm | FixedTerm | MilestoneTerm | RecurringTerm | ProgressTerm | ResaleTerm


@dataclass(frozen=True, slots=True)
class Cap:
    amount: Decimal
    kinds: frozenset[str] = DEFAULT_CAP_KINDS
    excess: Literal["hold", "write_off"] = "hold"


@dataclass(frozen=True, slots=True)
class RetainageTerms:
    rate: Decimal
    kinds: frozenset[str] = DEFAULT_RETAINAGE_KINDS


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """One version of a contract: everything in force from `valid_from`."""

    valid_from: date
    title: str
    end: date | None
    value: Decimal | None
    payment_terms: str
    cap: Cap | None
    retainage: RetainageTerms | None
    terms: tuple[Term, ...]
    _rates: dict[str, tuple[TimeTerm, Decimal]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        # role -> (term, rate): the first time term carrying the role, looked up once per version
        for term in self.terms:
            if isinstance(term, TimeTerm):
                for role, rate in term.rates.items():
                    self._rates.setdefault(role, (term, rate))

    def of_kind(self, kind: str) -> list[Term]:
        return [t for t in self.terms if t.kind == kind]

    def term(self, key: str) -> Term | None:
        return next((t for t in self.terms if t.key == key), None)

    def time_rate(self, role: str) -> tuple[TimeTerm, Decimal] | None:
        return self._rates.get(role)


@dataclass(frozen=True, slots=True)
class Contract:
    """A contract with its whole history of versions (index = rate version number)."""

    id: str
    client: str
    currency: str
    cycle: Cycle
    start: date
    versions: tuple[ContractTerms, ...]
    tax_rate: Decimal = Decimal(0)
    closed_on: date | None = None
    _froms: tuple[date, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_froms", tuple(v.valid_from for v in self.versions))

    @property
    def end(self) -> date | None:
        """The contract's end as last amended (periods are clipped to it)."""
        return self.versions[-1].end

    @property
    def calendar(self) -> ContractCalendar:
        return ContractCalendar(self.cycle, self.start, self.end)

    def version_no(self, day: date) -> int:
        return max(bisect_right(self._froms, day) - 1, 0)

    def on(self, day: date) -> ContractTerms:
        """The terms in force on `day` (the first version for days before the start)."""
        return self.versions[self.version_no(day)]

    def term_spans(self, key: str) -> list[tuple[date, date | None, Term]]:
        """Where the term `key` is in force: (from, until exclusive or None, term as then)."""
        spans: list[tuple[date, date | None, Term]] = []
        for i, version in enumerate(self.versions):
            term = version.term(key)
            if term is None:
                continue
            until = self.versions[i + 1].valid_from if i + 1 < len(self.versions) else None
            spans.append((version.valid_from, until, term))
        return spans

    def term_keys(self, kind: str) -> list[str]:
        keys: list[str] = []
        for version in self.versions:
            for term in version.of_kind(kind):
                if term.key not in keys:
                    keys.append(term.key)
        return keys


# ---------------------------------------------------------------- amendments on the written form

def term_keys(terms: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each written term's key: its id; else its kind when it is the only one; else kind#n."""
    kinds = [t["kind"] for t in terms]
    keys = []
    for i, term in enumerate(terms):
        if term.get("id"):
            keys.append(str(term["id"]))
        elif kinds.count(term["kind"]) == 1:
            keys.append(str(term["kind"]))
        else:
            keys.append(f"{term['kind']}#{kinds[: i + 1].count(term['kind'])}")
    return keys


def find_term(terms: Sequence[Mapping[str, Any]], address: str, where: str) -> int:
    """Index of the term addressed by id, or by kind when that kind is unique (spec §8)."""
    for i, term in enumerate(terms):
        if term.get("id") == address:
            return i
    same_kind = [i for i, term in enumerate(terms) if term["kind"] == address]
    if len(same_kind) == 1:
        return same_kind[0]
    if len(same_kind) > 1:
        raise AmendmentError(where, f"{address!r} is ambiguous: the contract has {len(same_kind)} "
                                    f"{address} terms; address one by its id")
    raise AmendmentError(where, f"no term {address!r} in force on the contract")


def apply_amendment(definition: Mapping[str, Any], add: Sequence[Mapping[str, Any]],
                    remove: Sequence[str], assignments: Mapping[str, Any]) -> dict[str, Any]:
    """The written contract after one amendment (remove, then add, then set); the input is unchanged."""
    result: dict[str, Any] = copy.deepcopy(dict(definition))
    terms: list[dict[str, Any]] = result["terms"]
    for i, address in enumerate(remove):
        del terms[find_term(terms, address, f"remove[{i}]")]
    for i, term in enumerate(add):
        if term.get("id") and any(t.get("id") == term["id"] for t in terms):
            raise AmendmentError(f"add[{i}].id", f"a term with id {term['id']!r} is already in force")
        terms.append(copy.deepcopy(dict(term)))
    for path, value in assignments.items():
        _assign(result, path, value)
    return result


def _assign(contract: dict[str, Any], path: str, value: Any) -> None:
    where = f"set.{path}"
    parts = path.split(".")
    if parts[0] == "terms":
        if len(parts) < 2:
            raise AmendmentError(where, "name a term: terms.<kind or id>[.<field>]")
        index = find_term(contract["terms"], parts[1], where)
        if len(parts) == 2:
            if not isinstance(value, Mapping):
                raise AmendmentError(where, "a whole term must be a mapping")
            contract["terms"][index] = {**copy.deepcopy(dict(value)), "kind": contract["terms"][index]["kind"]}
            return
        target: dict[str, Any] = contract["terms"][index]
        rest = parts[2:]
        if rest[0] == "kind":
            raise AmendmentError(where, "a term's kind cannot be amended; remove it and add another")
    else:
        if parts[0] not in AMENDABLE_FIELDS:
            raise AmendmentError(where, f"contract field {parts[0]!r} cannot be amended "
                                        f"(amendable: {', '.join(sorted(AMENDABLE_FIELDS))})")
        target, rest = contract, parts
    for key in rest[:-1]:
        child = target.get(key)
        if child is None:
            child = target[key] = {}
        if not isinstance(child, dict):
            raise AmendmentError(where, f"{key!r} holds no fields to set")
        target = child
    target[rest[-1]] = copy.deepcopy(value)

