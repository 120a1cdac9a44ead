"""A firm's whole portfolio for `bench.generate --mix all`: contracts of every kind, as an import file.

Out of N contracts, in proportions usual for an engineering and IT services firm:

- 55 % time & materials: the T&M plan of `bench.generate` (rate cards, raises, caps); a third of
  them also have an expense term with a 10–15 % markup and two expenses a month (one in ten not
  billable);
- 15 % fixed fee: the fee in 4 quarterly installments of 25 % (or 12 monthly amounts);
- 10 % milestones: 3–4 milestones with amounts, the first ones completed and accepted in the year;
- 8 % retainers: a recurring monthly fee, billed in advance or in arrears;
- 7 % progress: a schedule of values of 3–5 items with 10 % retainage, one report per item and
  month, cumulative percents rising;
- 5 % resale: hardware resold at a 15 % markup, 1–3 resales a month.

The retainer clients also paid deposits on account (payments without an invoice, 1 to 3 over the
year): payments against invoices need issued invoices, which exist only after a billing run, so
they are not generated (the billing benchmark issues and pays its own).

Everything but the time entries is one import document (`importing.models` records): the generator
loads it with `import_document`, exactly what `billpact import` stores, then writes the time entries
in bulk. The same seed gives the same document.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from bench.generate import Plan, _apportion, _workdays, plan
from billpact.importing import models as m

SHARES: dict[str, float] = {"time": 0.55, "fixed": 0.15, "milestone": 0.10, "recurring": 0.08, "progress": 0.07,
                            "resale": 0.05}
EXPENSE_SHARE = 1 / 3                  # of the T&M contracts
EXPENSE_CATEGORIES = ["travel", "lodging", "printing", "materials", "permits"]
SOV_ITEMS = ["mobilization", "foundations", "structure", "envelope", "mechanical", "electrical", "finishes"]
RESALE_ITEMS = ["laptop", "network switch", "firewall appliance", "software licence", "UPS unit"]


@dataclass
class Portfolio:
    """The T&M plan (its time entries are written in bulk) and the import document for the rest."""

    tm: Plan
    document: dict[str, Any]
    kinds: dict[str, int]


def counts(contracts: int) -> dict[str, int]:
    """How many contracts of each kind (exactly `contracts` in all; at least one T&M)."""
    return dict(zip(SHARES, _apportion(contracts, list(SHARES.values())), strict=True))


def portfolio(contracts: int, entries: int, seed: int = 2026, year: int = 2026) -> Portfolio:
    kinds = counts(contracts)
    if kinds["time"] == 0:
        raise ValueError("at least one contract is needed")
    tm = plan(kinds["time"], entries, seed, year)
    rng = random.Random(seed * 31 + 5)
    clients = tm.clients
    doc = _Document(rng, year, clients)
    for c in tm.contracts:
        written = c.written(clients[c.client])
        if rng.random() < EXPENSE_SHARE:
            markup = Decimal(rng.choice(("0.10", "0.12", "0.15")))
            written = written.model_copy(update={"terms": [*written.terms, m.ExpenseTerm(kind="expense",
                                                                                           markup=markup)]})
            doc.expenses_for(written)
        doc.contracts.append(written)
        amendment = c.amendment()
        if amendment is not None:
            doc.amendments.append(amendment)
    number = len(tm.contracts)
    for kind in ("fixed", "milestone", "recurring", "progress", "resale"):
        for _ in range(kinds[kind]):
            number += 1
            getattr(doc, kind)(f"C-{number:05d}", rng.randrange(len(clients)))
    return Portfolio(tm, doc.as_file(), kinds)


class _Document:
    """The records of the import file, built contract by contract."""

    def __init__(self, rng: random.Random, year: int, clients: list[m.Client]) -> None:
        self.rng, self.year, self.clients = rng, year, clients
        self.jan1, self.dec31 = date(year, 1, 1), date(year, 12, 31)
        self.contracts: list[m.Contract] = []
        self.amendments: list[m.Amendment] = []
        self.events: dict[str, list[Any]] = {"expenses": [], "milestones": [], "progress": [], "resales": [],
                                             "payments": []}

    def as_file(self) -> dict[str, Any]:
        def dump(records: list[Any]) -> list[dict[str, Any]]:
            return [r.model_dump(mode="json", exclude_none=True) for r in records]

        return {"organization": {"name": "Bench Engineering Ltd"}, "clients": dump(self.clients),
                "contracts": dump(self.contracts), "amendments": dump(self.amendments),
                **{name: dump(records) for name, records in self.events.items()}}

    def _contract(self, code: str, client: int, kind: str, terms: list[Any], start: date | None = None,
                  **extra: Any) -> m.Contract:
        if start is None:
            start = self.jan1 if self.rng.random() < 0.8 else self.jan1 + timedelta(days=self.rng.randint(1, 89))
        contract = m.Contract(id=code, client=self.clients[client].id, title=f"{kind} {code}", start=start,
                              end=self.dec31, terms=terms, **extra)
        self.contracts.append(contract)
        return contract

    def _months(self, contract: m.Contract) -> list[tuple[date, date]]:
        """(first, last) working day of each month the contract runs."""
        out = []
        for month in range(contract.start.month, 13):
            first = max(contract.start, date(self.year, month, 1))
            last = (date(self.year, month + 1, 1) if month < 12 else date(self.year + 1, 1, 1)) - timedelta(days=1)
            days = _workdays(first, last)
            if days:
                out.append((days[0], days[-1]))
        return out

    def _money(self, low: int, high: int, step: int = 50) -> Decimal:
        return Decimal(step * self.rng.randint(low // step, high // step))

    def expenses_for(self, contract: m.Contract) -> None:
        for first, last in self._months(contract):
            for _ in range(2):
                day = first + timedelta(days=self.rng.randint(0, (last - first).days))
                if day.weekday() >= 5:
                    day -= timedelta(days=day.weekday() - 4)
                self.events["expenses"].append(m.Expense(
                    id=f"X-{len(self.events['expenses']) + 1:08d}", contract=contract.id, date=max(day, first),
                    category=self.rng.choice(EXPENSE_CATEGORIES), billable=self.rng.random() >= 0.1,
                    amount=Decimal(self.rng.randint(2000, 80000)) / 100))

    def fixed(self, code: str, client: int) -> None:
        fee = self._money(20_000, 400_000, 1000)
        quarterly = self.rng.random() < 0.7
        dates = [date(self.year, mo, 28) for mo in ((3, 6, 9, 12) if quarterly else range(1, 13))]
        share = Decimal(1) / len(dates)
        schedule = [m.Installment(date=d, percent=share.quantize(Decimal("0.000001"))) for d in dates]
        if not quarterly:  # twelfths do not add up to one in six places: the last installment takes the rest
            schedule = [m.Installment(date=d, amount=(fee / 12).quantize(Decimal("0.01"))) for d in dates[:-1]]
            schedule.append(m.Installment(date=dates[-1], amount=fee - sum(i.amount or 0 for i in schedule)))
        self._contract(code, client, "Fixed fee", [m.FixedTerm(kind="fixed", amount=fee, schedule=schedule)],
                       start=self.jan1)  # the schedule starts in January

    def milestone(self, code: str, client: int) -> None:
        count = self.rng.choice((3, 4))
        terms = [m.MilestoneTerm(kind="milestone", id=f"M{k + 1}", name=f"Deliverable {k + 1}",
                                 amount=self._money(5_000, 80_000, 500)) for k in range(count)]
        contract = self._contract(code, client, "Milestones", list(terms))
        done = self.rng.randint(1, count)
        for k in range(done):
            completed = contract.start + timedelta(days=30 + 80 * k + self.rng.randint(0, 20))
            if completed > self.dec31:
                break
            accepted = completed + timedelta(days=self.rng.randint(3, 20))
            self.events["milestones"].append(m.MilestoneEvent(
                id=f"ME-{len(self.events['milestones']) + 1:07d}", contract=code, milestone=f"M{k + 1}",
                completed=completed, accepted=accepted if accepted <= self.dec31 else None))

    def recurring(self, code: str, client: int) -> None:
        fee = self._money(1_000, 15_000, 250)
        contract = self._contract(code, client, "Retainer", [m.RecurringTerm(
            kind="recurring", name="Monthly retainer", amount=fee,
            timing="advance" if self.rng.random() < 0.6 else "arrears")])
        for _ in range(self.rng.randint(1, 3)):
            day = min(self.dec31, contract.start + timedelta(days=self.rng.randint(0, 300)))
            self.events["payments"].append(m.Payment(
                id=f"PAY-{len(self.events['payments']) + 1:07d}", client=contract.client, date=day, amount=fee,
                currency=self.clients[client].currency, reference="deposit on account"))

    def progress(self, code: str, client: int) -> None:
        items = self.rng.sample(SOV_ITEMS, self.rng.randint(3, 5))
        values = {item: self._money(10_000, 250_000, 1000) for item in items}
        contract = self._contract(code, client, "Construction", [m.ProgressTerm(kind="progress", items=values)],
                                  retainage=m.Retainage(rate=Decimal("0.10")))
        for item in items:
            percent = Decimal(0)
            for _first, last in self._months(contract):
                percent = min(Decimal(1), percent + Decimal(self.rng.randint(0, 20)) / 100)
                self.events["progress"].append(m.ProgressReport(
                    id=f"PR-{len(self.events['progress']) + 1:08d}", contract=code, date=last, item=item,
                    percent=percent))

    def resale(self, code: str, client: int) -> None:
        contract = self._contract(code, client, "Hardware supply", [m.ResaleTerm(kind="resale",
                                                                                markup=Decimal("0.15"))])
        for first, last in self._months(contract):
            for _ in range(self.rng.randint(1, 3)):
                day = first + timedelta(days=self.rng.randint(0, (last - first).days))
                self.events["resales"].append(m.Resale(
                    id=f"RS-{len(self.events['resales']) + 1:08d}", contract=code, date=day,
                    item=self.rng.choice(RESALE_ITEMS), quantity=Decimal(self.rng.randint(1, 10)),
                    unit_cost=Decimal(self.rng.randint(5_000, 250_000)) / 100))
