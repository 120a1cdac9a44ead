"""Hypothesis strategies for the property tests: valid import documents, built as plain dicts.

Every document these strategies draw passes the importer's validation (`valid_document` checks
it), so a failing property is about billing, never about a malformed input. Money is drawn as
integer counts of the currency's minor unit, so every written amount is exact in its currency
(except with `loose=True`, which writes the 4 decimals the importer accepts). Also here: the
independent oracles the properties compare with (half-up rounding, the calendar of spec §3).
"""

from __future__ import annotations

import calendar as _cal
import itertools
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from billpact.importing.models import ImportFile
from billpact.importing.validate import StoredState, validate

# A 2-decimal, a 0-decimal and a 3-decimal currency (spec §1).
CURRENCIES: dict[str, int] = {"USD": 2, "JPY": 0, "KWD": 3}
CYCLES = ("monthly", "quarterly", "weekly")
ROLES = ("engineer", "senior_engineer")
CATEGORIES = ("travel", "lodging", "meals")
FIRST_DAY = date(2026, 1, 1)


def money(units: int, exponent: int) -> str:
    """`units` minor units as a string with exactly the currency's digits ("1234.50", "1235")."""
    return f"{Decimal(units).scaleb(-exponent):.{exponent}f}"


def fraction(parts: int, of: int = 10_000) -> str:
    """parts / of as an exact decimal string (basis points by default): 2537 -> "0.2537"."""
    return str(Decimal(parts) / Decimal(of))


def valid_document(raw: dict[str, Any]) -> ImportFile:
    """The typed document; fails loudly if the generator drew something the importer refuses."""
    doc, problems = validate(raw, StoredState())
    assert doc is not None and not problems, [str(p) for p in problems]
    return doc


_UNIT = st.integers(0, 2**31)


def between(draw: st.DrawFn, lo: int, hi: int) -> int:
    """An integer in lo..hi from one shared strategy (cheaper than a new strategy per draw); shrinks to lo."""
    return lo + draw(_UNIT) % (hi - lo + 1) if hi > lo else lo


def pick_day(draw: st.DrawFn, lo: date, hi: date) -> date:
    """A day in lo..hi (inclusive); shrinks to lo."""
    return lo + timedelta(days=between(draw, 0, max((hi - lo).days, 0)))


def composition(draw: st.DrawFn, total: int, parts: int, *, positive: bool) -> list[int]:
    """`parts` integers adding up to `total` (each ≥ 1 when `positive`)."""
    if positive:
        assert total >= parts
        cuts: list[int] = []
        while len(cuts) < parts - 1:
            cut = between(draw, 1, total - 1)
            while cut in cuts:               # the next free one (there is one: parts ≤ total)
                cut = cut % (total - 1) + 1
            cuts.append(cut)
        cuts.sort()
    else:
        cuts = sorted(between(draw, 0, total) for _ in range(parts - 1))
    bounds = [0, *cuts, total]
    return [b - a for a, b in itertools.pairwise(bounds)]


# ---------------------------------------------------------------- independent oracles: rounding (spec §1)

def half_up(value: Fraction | Decimal | int, exponent: int) -> Fraction:
    """round(value) to 10^-exponent, ties away from zero, in exact rational arithmetic."""
    scaled = Fraction(value) * 10**exponent
    sign = -1 if scaled < 0 else 1
    magnitude = abs(scaled)
    units = (2 * magnitude.numerator + magnitude.denominator) // (2 * magnitude.denominator)
    return Fraction(sign * units, 10**exponent)


def div_half_up(numerator: int, denominator: int) -> int:
    """round(numerator / denominator) to an integer, ties away from zero."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    n, d = abs(numerator), abs(denominator)
    return sign * ((2 * n + d) // (2 * d))


def is_quantized(amount: Decimal, exponent: int) -> bool:
    return Fraction(amount) * 10**exponent == int(Fraction(amount) * 10**exponent)


# ---------------------------------------------------------------- independent calendar (spec §3)

def month_end(year: int, month: int) -> date:
    return date(year, month, _cal.monthrange(year, month)[1])


def calendar_span(cycle: str, day: date) -> tuple[date, date]:
    if cycle == "monthly":
        return day.replace(day=1), month_end(day.year, day.month)
    if cycle == "quarterly":
        first = (day.month - 1) // 3 * 3 + 1
        return date(day.year, first, 1), month_end(day.year, first + 2)
    monday = day - timedelta(days=day.isoweekday() - 1)
    return monday, monday + timedelta(days=6)


def contract_span(cycle: str, start: date, end: date | None, day: date) -> tuple[date, date]:
    """The contract period of `day`: clipped to start/end; after the end, the calendar period."""
    lo, hi = calendar_span(cycle, day)
    if end is not None and day > end:
        return lo, hi
    return max(lo, start), hi if end is None else min(hi, end)


def due_on(terms: str, day: date) -> date:
    if terms == "due_on_receipt":
        return day
    if terms.startswith("net"):
        return day + timedelta(days=int(terms[3:]))
    return month_end(day.year, day.month) + timedelta(days=int(terms[3:] or 0))


# ---------------------------------------------------------------- fixed-fee schedules

@dataclass
class FixedCase:
    currency: str
    exponent: int
    fee_units: int
    # (date, amount in minor units or None, percent in basis points or None), as listed
    schedule: list[tuple[date, int | None, int | None]]
    start: date
    end: date

    @property
    def fee(self) -> Decimal:
        return Decimal(self.fee_units).scaleb(-self.exponent)

    def written_schedule(self) -> list[dict[str, Any]]:
        out = []
        for day, amount, bp in self.schedule:
            if amount is not None:
                out.append({"date": day, "amount": money(amount, self.exponent)})
            else:
                out.append({"date": day, "percent": fraction(bp or 0)})
        return out

    def document(self, *, taxable: bool = True) -> dict[str, Any]:
        return {
            "clients": [{"id": "CL", "name": "Client", "currency": self.currency, "payment_terms": "net30"}],
            "contracts": [{
                "id": "C-F", "client": "CL", "start": self.start, "end": self.end, "cycle": "monthly",
                "terms": [{"kind": "fixed", "id": "FEE", "amount": money(self.fee_units, self.exponent),
                           "schedule": self.written_schedule(), "taxable": taxable}],
            }],
        }


@st.composite
def fixed_cases(draw: st.DrawFn) -> FixedCase:
    """A fee and a schedule that adds up to it exactly: all percents (basis points summing to 10000),
    all amounts, or amounts for part of the fee and percents for the rest."""
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    exponent = CURRENCIES[currency]
    mode = draw(st.sampled_from(("percent", "amount", "mixed")))
    n = between(draw, 1, 6)
    start = pick_day(draw, FIRST_DAY, FIRST_DAY + timedelta(days=120))
    end = start + timedelta(days=between(draw, 0, 400))
    # a few candidate dates, so that ties (same date: the last listed is the last) happen often
    pool = [pick_day(draw, start, end) for _ in range(between(draw, 1, 4))]
    if mode == "percent":
        fee = between(draw, 1, 10**9)
        bps = composition(draw, 10_000, n, positive=False)
        rows: list[tuple[int | None, int | None]] = [(None, bp) for bp in bps]
    elif mode == "amount":
        fee = between(draw, n, 10**9)
        rows = [(a, None) for a in composition(draw, fee, n, positive=True)]
    else:
        n = max(n, 2)
        k = between(draw, 1, n - 1)                    # installments in percent
        percent_bp = between(draw, 1, 9_999)           # their share of the fee
        step = 10_000 // math.gcd(10_000, 10_000 - percent_bp)   # fee × (1 − share) must be exact
        amount_count = n - k
        fee = step * between(draw, 1, 10**9 // step + 1)
        rest = fee * (10_000 - percent_bp) // 10_000
        if rest < amount_count:
            fee, rest = fee * amount_count, rest * amount_count
        rows = [(None, bp) for bp in composition(draw, percent_bp, k, positive=False)]
        rows += [(a, None) for a in composition(draw, rest, amount_count, positive=True)]
        rows = draw(st.permutations(rows))
    schedule = [(draw(st.sampled_from(pool)), a, bp) for a, bp in rows]
    return FixedCase(currency, exponent, fee, schedule, start, end)


# ---------------------------------------------------------------- whole billing documents

@dataclass
class Spec:
    """What a generated document is made of, for the tests' own expectations."""

    raw: dict[str, Any]
    through: date                  # on or after every billing date of every item
    last_event: date               # the latest dated thing (events, amendments, the contracts' ends)
    contracts: list[str] = field(default_factory=list)


def _rate(draw: st.DrawFn, exponent: int, loose: bool = False) -> str:
    # at least 10 major units, so that a quarter hour never bills zero (no zero lines)
    if loose:
        return f"{Decimal(between(draw, 10 * 10**4, 300 * 10**4)).scaleb(-4):f}"
    return money(between(draw, 10 * 10**exponent, 300 * 10**exponent), exponent)


Parts = tuple[dict[str, Any], dict[str, Any], dict[str, list[Any]], date]   # client, contract, events, last


@st.composite
def contract_parts(draw: st.DrawFn, cid: str, *, kinds: tuple[str, ...], cap: str, retainage: str,
                   amendments: bool, max_time: int = 10, max_expenses: int = 5,
                   person_prefix: str = "", cap_max: int = 30_000, min_amendments: int = 0,
                   cap_weight: int = 2, loose: bool = False) -> Parts:
    """One client, one contract with the `kinds` of terms, and its events.

    cap / retainage: "never", "maybe" or "always". loose: money written with up to 4 decimals, whatever
    the currency (what the importer accepts). Returns (client, contract, events, latest event date).
    """
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    e = CURRENCIES[currency]

    def cash(units: int) -> str:
        """`units` minor units; with `loose`, plus digits below the minor unit (the importer takes 4)."""
        if not loose:
            return money(units, e)
        return f"{Decimal(units).scaleb(-e) + Decimal(between(draw, 0, 10 ** (4 - e) - 1)).scaleb(-4):f}"

    cycle = draw(st.sampled_from(CYCLES))
    start = pick_day(draw, FIRST_DAY, FIRST_DAY + timedelta(days=75))
    end = start + timedelta(days=between(draw, 20, 300)) if draw(st.booleans()) else None
    horizon = end or start + timedelta(days=between(draw, 20, 240))
    after = horizon + timedelta(days=60)      # milestones and releases may come after the end
    client = {"id": f"CL-{cid}", "name": f"Client of {cid}", "currency": currency,
              "payment_terms": draw(st.sampled_from(("net30", "net45", "eom", "eom15", "due_on_receipt"))),
              "tax_rate": draw(st.sampled_from(("0", "0.075", "0.2", "0.0825", "0.19")))}
    terms: list[dict[str, Any]] = []
    events: dict[str, list[Any]] = {k: [] for k in ("time", "expenses", "resales", "milestones", "progress",
                                                      "retainage_releases")}
    contract: dict[str, Any] = {"id": cid, "client": client["id"], "start": start, "cycle": cycle}
    if end is not None:
        contract["end"] = end
    latest = start
    multiplier = None
    if "time" in kinds:
        multiplier = draw(st.sampled_from((None, "1.5", "1.25", "2")))
        term: dict[str, Any] = {"kind": "time", "rates": {r: _rate(draw, e, loose) for r in ROLES},
                                "taxable": draw(st.booleans())}
        if multiplier:
            term["overtime_multiplier"] = multiplier
        terms.append(term)
        for i in range(between(draw, 0, max_time)):
            day = pick_day(draw, start, horizon)
            latest = max(latest, day)
            events["time"].append({
                "contract": cid, "date": day, "person": f"{person_prefix}{cid}-p{i}",
                "role": draw(st.sampled_from(ROLES)),
                "hours": str(Decimal(between(draw, 1, 40)) / 4),
                "overtime": bool(multiplier) and draw(st.booleans())})
    if "expense" in kinds:
        term = {"kind": "expense", "markup": draw(st.sampled_from(("0", "0.10", "0.125", "0.15"))),
                "taxable": draw(st.booleans())}
        if draw(st.booleans()):
            term["categories"] = ["travel", "lodging"]
        terms.append(term)
        for _ in range(between(draw, 0, max_expenses)):
            day = pick_day(draw, start, horizon)
            latest = max(latest, day)
            events["expenses"].append({
                "contract": cid, "date": day, "category": draw(st.sampled_from(CATEGORIES)),
                "amount": cash(between(draw, 1, 2_000 * 10**e)),
                "billable": draw(st.booleans()) or draw(st.booleans())})
    if "resale" in kinds:
        terms.append({"kind": "resale", "markup": draw(st.sampled_from(("0", "0.25", "0.333"))),
                      "taxable": draw(st.booleans())})
        for i in range(between(draw, 0, 3)):
            day = pick_day(draw, start, horizon)
            latest = max(latest, day)
            resale: dict[str, Any] = {"contract": cid, "date": day, "item": f"Item {i % 2}",
                                      "quantity": draw(st.sampled_from(("1", "2", "3", "0.5", "1.5"))),
                                      "unit_cost": cash(between(draw, 10**e, 5_000 * 10**e))}
            if draw(st.booleans()):
                resale["unit_price"] = cash(between(draw, 10**e, 5_000 * 10**e))
            events["resales"].append(resale)
    if "fixed" in kinds:
        bps = composition(draw, 10_000, between(draw, 1, 4), positive=False)
        fee = between(draw, 100 * 10**e, 100_000 * 10**e)
        terms.append({"kind": "fixed", "id": "FEE", "amount": cash(fee), "taxable": draw(st.booleans()),
                      "schedule": [{"date": pick_day(draw, start, horizon), "percent": fraction(bp)} for bp in bps]})
    if "milestone" in kinds:
        contract["value"] = cash(between(draw, 1_000 * 10**e, 500_000 * 10**e))
        terms.append({"kind": "milestone", "id": "M1", "amount": cash(between(draw, 10**e, 50_000 * 10**e)),
                      "bill_on": draw(st.sampled_from(("accepted", "completed"))), "taxable": draw(st.booleans())})
        terms.append({"kind": "milestone", "id": "M2", "percent": fraction(between(draw, 1, 5_000)),
                      "bill_on": draw(st.sampled_from(("accepted", "completed"))), "taxable": draw(st.booleans())})
        for key in ("M1", "M2"):
            if draw(st.booleans()):
                completed = pick_day(draw, start, after)
                accepted = pick_day(draw, completed, after + timedelta(days=10)) if draw(st.booleans()) else None
                events["milestones"].append({"contract": cid, "milestone": key, "completed": completed,
                                             "accepted": accepted})
                latest = max(latest, accepted or completed)
    if "recurring" in kinds:
        terms.append({"kind": "recurring", "id": "SUPPORT", "amount": cash(between(draw, 10**e, 9_000 * 10**e)),
                      "timing": draw(st.sampled_from(("advance", "arrears"))), "taxable": draw(st.booleans())})
    if "progress" in kinds:
        items = {"foundations": cash(between(draw, 1_000 * 10**e, 300_000 * 10**e)),
                 "steel": cash(between(draw, 1_000 * 10**e, 300_000 * 10**e))}
        terms.append({"kind": "progress", "items": items, "taxable": draw(st.booleans())})
        for item in items:
            days = sorted({pick_day(draw, start, horizon) for _ in range(between(draw, 0, 3))})
            percents = sorted(between(draw, 0, 10_000) for _ in days)
            for day, bp in zip(days, percents, strict=True):
                events["progress"].append({"contract": cid, "date": day, "item": item, "percent": fraction(bp)})
                latest = max(latest, day)
    if not terms:
        raise AssertionError("contract_parts needs at least one kind")
    contract["terms"] = terms
    has_cap = cap == "always" or (cap == "maybe" and draw(st.booleans()))
    if has_cap:
        capped = draw(st.sampled_from((None, ["time", "expense"], ["time"], ["time", "expense", "resale"],
                                       ["time", "expense", "fixed", "recurring", "progress"])))
        contract["not_to_exceed"] = {"amount": cash(between(draw, 0, cap_max * 10**e)),
                                     "excess": draw(st.sampled_from(("hold", "write_off")))}
        if capped is not None:
            contract["not_to_exceed"]["kinds"] = capped
    has_retainage = retainage == "always" or (retainage == "maybe" and draw(st.booleans()))
    if has_retainage:
        contract["retainage"] = {"rate": draw(st.sampled_from(("0.05", "0.1", "0.125", "0.0333")))}
        if draw(st.booleans()):
            contract["retainage"]["kinds"] = draw(st.sampled_from((["time"], ["time", "expense", "resale"],
                                                                   ["fixed", "milestone", "recurring", "progress"])))
        for _ in range(between(draw, min_amendments, min_amendments + 2)):
            day = pick_day(draw, start, after)
            release: dict[str, Any] = {"contract": cid, "date": day}
            how = draw(st.sampled_from(("all", "percent", "amount")))
            if how == "percent":
                release["percent"] = fraction(between(draw, 0, 10_000))
            elif how == "amount":
                release["amount"] = cash(between(draw, 1, 5_000 * 10**e))
            events["retainage_releases"].append(release)
            latest = max(latest, day)
    written_amendments: list[dict[str, Any]] = []
    if amendments:
        for _ in range(between(draw, min_amendments, min_amendments + 2)):
            options = []
            if has_cap:
                options += ["cap"] * cap_weight + ["excess"]
            if "time" in kinds:
                options.append("rate")
            if has_retainage:
                options.append("retainage")
            if not options:
                break
            what = draw(st.sampled_from(options))
            effective = pick_day(draw, start, horizon)
            if what == "cap":
                lo, hi = (0, cap_max * 4 // 3) if draw(st.booleans()) else (cap_max, cap_max * 20)  # or a big raise
                change = {"not_to_exceed.amount": cash(between(draw, lo * 10**e, hi * 10**e))}
            elif what == "excess":
                change = {"not_to_exceed.excess": draw(st.sampled_from(("hold", "write_off")))}
            elif what == "rate":
                change = {"terms.time.rates.engineer": _rate(draw, e, loose)}
            else:
                change = {"retainage.rate": draw(st.sampled_from(("0", "0.05", "0.2")))}
            written_amendments.append({"contract": cid, "effective": effective, "set": change})
            latest = max(latest, effective)
    events["amendments"] = written_amendments
    return client, contract, events, max(latest, horizon)


ALL_KINDS = ("time", "expense", "resale", "fixed", "milestone", "recurring", "progress")


@st.composite
def documents(draw: st.DrawFn, *, kinds: tuple[str, ...] = ALL_KINDS, cap: str = "maybe",
              retainage: str = "maybe", amendments: bool = True, contracts: int = 1,
              max_time: int = 10, max_expenses: int = 5, min_kinds: int = 1, cap_max: int = 30_000,
              min_amendments: int = 0, cap_weight: int = 2, always: tuple[str, ...] = (),
              loose: bool = False) -> Spec:
    """A document of `contracts` contracts, each with a random non-empty subset of `kinds` (and `always`)."""
    raw: dict[str, Any] = {"clients": [], "contracts": [], "amendments": [], "time": [], "expenses": [],
                           "resales": [], "milestones": [], "progress": [], "retainage_releases": []}
    latest = FIRST_DAY
    ids = []
    for n in range(contracts):
        chosen = tuple(draw(st.lists(st.sampled_from(kinds), min_size=min(min_kinds, len(kinds)),
                                     max_size=len(kinds), unique=True))) + always
        cid = f"C-{n + 1}"
        client, contract, events, last = draw(contract_parts(
            cid, kinds=tuple(k for k in kinds if k in chosen), cap=cap, retainage=retainage,
            amendments=amendments, max_time=max_time, max_expenses=max_expenses, cap_max=cap_max,
            min_amendments=min_amendments, cap_weight=cap_weight, loose=loose))
        raw["clients"].append(client)
        raw["contracts"].append(contract)
        for key, records in events.items():
            raw[key] += records
        latest = max(latest, last)
        ids.append(cid)
    raw = {k: v for k, v in raw.items() if v}
    # every billing date lies within a quarter (the longest cycle) after the latest dated thing
    return Spec(raw, latest + timedelta(days=100), latest, ids)


# ---------------------------------------------------------------- a fixed fee amended mid-way

@dataclass
class AmendedFixedCase:
    """A fee F1 with a percent schedule, amended on `effective` to a fee F2 whose schedule keeps every
    installment dated before `effective` (spec §4, §9: "the new schedule keeps every installment already
    billed", "old and new installments are matched by date")."""

    currency: str
    exponent: int
    start: date
    end: date
    effective: date
    old_fee: int                                     # minor units
    old: list[tuple[date, int]]                      # (date, basis points), distinct dates
    new_fee: int
    kept_as: str                                     # "percent": kept with their percent; "amount": billed amount
    new: list[tuple[date, int | None, int | None]]   # (date, amount units, basis points), as written

    def document(self) -> dict[str, Any]:
        e = self.exponent

        def written(day: date, amount: int | None, bp: int | None) -> dict[str, Any]:
            return {"date": day, "amount": money(amount, e)} if amount is not None else \
                {"date": day, "percent": fraction(bp or 0)}

        return {
            "clients": [{"id": "CL", "name": "Client", "currency": self.currency, "payment_terms": "net30"}],
            "contracts": [{
                "id": "C-F", "client": "CL", "start": self.start, "end": self.end, "cycle": "monthly",
                "terms": [{"kind": "fixed", "id": "FEE", "amount": money(self.old_fee, e),
                           "schedule": [written(d, None, bp) for d, bp in self.old]}],
            }],
            "amendments": [{"contract": "C-F", "effective": self.effective, "set": {
                "terms.FEE.amount": money(self.new_fee, e),
                "terms.FEE.schedule": [written(*row) for row in self.new]}}],
        }


def old_amounts(fee: int, schedule: list[tuple[date, int]]) -> list[int]:
    """Minor units of each percent installment; the latest takes the remainder (distinct dates)."""
    last = max(range(len(schedule)), key=lambda i: schedule[i][0])
    out = [(2 * fee * bp + 10_000) // 20_000 for _d, bp in schedule]   # half up, non-negative
    out[last] = fee - sum(a for i, a in enumerate(out) if i != last)
    return out


@st.composite
def amended_fixed_cases(draw: st.DrawFn) -> AmendedFixedCase:
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    e = CURRENCIES[currency]
    start = pick_day(draw, FIRST_DAY, FIRST_DAY + timedelta(days=60))
    end = start + timedelta(days=between(draw, 60, 360))
    effective = pick_day(draw, start + timedelta(days=1), end)
    old_dates = sorted({pick_day(draw, start, end) for _ in range(between(draw, 1, 4))})
    old = list(zip(old_dates, composition(draw, 10_000, len(old_dates), positive=True), strict=True))
    old_fee = between(draw, 10**e, 10**6 * 10**e)
    billed = old_amounts(old_fee, old)
    assume(all(a > 0 for a in billed))   # (a tiny fee can round the remainder below zero)
    kept = [(d, bp, a) for (d, bp), a in zip(old, billed, strict=True) if d < effective]
    new_dates = sorted({pick_day(draw, effective, end) for _ in range(between(draw, 1, 3))})
    kept_as = draw(st.sampled_from(("percent", "amount")))
    if kept_as == "percent":
        left = 10_000 - sum(bp for _d, bp, _a in kept)
        new_fee = between(draw, 10**e, 10**6 * 10**e)
        new: list[tuple[date, int | None, int | None]] = [(d, None, bp) for d, bp, _a in kept]
        new += [(d, None, bp) for d, bp in zip(new_dates, composition(draw, left, len(new_dates), positive=False),
                                               strict=True)]
    else:
        kept_total = sum(a for _d, _bp, a in kept)
        rest = between(draw, len(new_dates), 10**6 * 10**e)
        new_fee = kept_total + rest
        new = [(d, a, None) if a > 0 else (d, None, 0) for d, _bp, a in kept]
        new += [(d, a, None) for d, a in zip(new_dates, composition(draw, rest, len(new_dates), positive=True),
                                             strict=True)]
    return AmendedFixedCase(currency, e, start, end, effective, old_fee, old, new_fee, kept_as, new)
