"""Stored FX rates: look one up, convert with it, load them from a CSV file or the ECB's history.

A report converts an amount with the latest rate stored on or before the day it concerns (the ECB
publishes none on weekends and holidays, so Saturday uses Friday's). The inverse pair counts too: a
stored EUR→USD rate of 1.1 answers USD→EUR as 1/1.1. Nothing here fetches a rate from the network:
what is stored is what reports use, so a report printed twice says the same, and names its rate.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.core.money import Currency, is_currency
from billpact.errors import InvalidInput
from billpact.fx.models import RATE_SCALE, FxRate

ONE = Decimal(1)
COLUMNS = ("date", "base", "quote", "rate")
ECB_BASE = "EUR"   # the ECB publishes every rate against the euro
Parsed = tuple[dt.date, str, str, Decimal]   # one rate to store: day, base, quote, rate


@dataclass(frozen=True, slots=True)
class Rate:
    """1 base = `rate` quote, as stored for `date` (or derived from its inverse; "identity" for one
    currency to itself)."""

    base: str
    quote: str
    rate: Decimal
    date: dt.date | None
    source: str
    inverse: bool = False

    def describe(self) -> str:
        """"1 EUR = 1.0956 USD (ecb, 2024-01-02)": what a report prints next to a converted amount."""
        if self.source == "identity":
            return f"{self.base} = {self.quote}"
        how = f"{self.source}, inverse" if self.inverse else self.source
        return f"1 {self.base} = {self.rate.normalize():f} {self.quote} ({how}, {self.date})"

    def as_json(self) -> dict[str, Any]:
        return {"base": self.base, "quote": self.quote, "rate": f"{self.rate.normalize():f}",
                "date": self.date.isoformat() if self.date else None, "source": self.source,
                "inverse": self.inverse}


def _latest(session: Session, base: str, quote: str, on: dt.date) -> FxRate | None:
    return session.scalars(select(FxRate).where(FxRate.base == base, FxRate.quote == quote, FxRate.date <= on)
                           .order_by(FxRate.date.desc()).limit(1)).first()


def find_rate(session: Session, base: str, quote: str, on: dt.date) -> Rate | None:
    """The latest rate on or before `on` (direct pair or inverse, the later of the two); None if none."""
    if base == quote:
        return Rate(base, quote, ONE, None, "identity")
    direct, inverse = _latest(session, base, quote, on), _latest(session, quote, base, on)
    if direct is not None and (inverse is None or direct.date >= inverse.date):
        return Rate(base, quote, direct.rate, direct.date, direct.source)
    if inverse is not None:
        return Rate(base, quote, ONE / inverse.rate, inverse.date, inverse.source, inverse=True)
    return None


def rate(session: Session, base: str, quote: str, on: dt.date) -> Rate:
    """The rate `find_rate` gives, or InvalidInput that says which pair and day lack one, and how to fix it."""
    found = find_rate(session, base, quote, on)
    if found is None:
        raise InvalidInput([f"no {base}→{quote} rate on or before {on.isoformat()}: import rates with "
                            "`billpact fx import` (or `billpact fx seed`)"], "fx")
    return found


def apply(amount: Decimal, found: Rate) -> Decimal:
    """amount × rate, rounded half-up to the quote currency's minor unit (`Currency.quantize`)."""
    return Currency.of(found.quote).quantize(amount * found.rate) + 0


def convert(session: Session, amount: Decimal, source: str, target: str, on: dt.date) -> tuple[Decimal, Rate]:
    """`amount` in `source` as `target` on `on`, with the rate used."""
    found = rate(session, source, target, on)
    return apply(amount, found), found


def listing(session: Session, base: str | None = None, quote: str | None = None) -> list[FxRate]:
    """Stored rates, by pair then date."""
    query = select(FxRate).order_by(FxRate.base, FxRate.quote, FxRate.date)
    if base:
        query = query.where(FxRate.base == base)
    if quote:
        query = query.where(FxRate.quote == quote)
    return list(session.scalars(query))


def rate_json(row: FxRate) -> dict[str, Any]:
    return {"date": row.date.isoformat(), "base": row.base, "quote": row.quote,
            "rate": f"{row.rate.normalize():f}", "source": row.source}


# ---------------------------------------------------------------- loading


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a load did: rows added, rows already stored with the same rate (skipped)."""

    added: int
    unchanged: int


def _row_problems(row: dict[str, str | None]) -> tuple[list[str], Parsed | None]:
    """The problems of one CSV row, or its parsed (date, base, quote, rate)."""
    problems: list[str] = []
    day: dt.date | None = None
    try:
        day = dt.date.fromisoformat((row.get("date") or "").strip())
    except ValueError:
        problems.append(f"date {row.get('date')!r} is not a date (YYYY-MM-DD)")
    base, quote = ((row.get(key) or "").strip().upper() for key in ("base", "quote"))
    problems += [f"{key} {code!r} is not an ISO 4217 currency code"
                 for key, code in (("base", base), ("quote", quote)) if not is_currency(code)]
    if base and base == quote:
        problems.append(f"base and quote are both {base}")
    value: Decimal | None = None
    try:
        value = Decimal((row.get("rate") or "").strip())
    except InvalidOperation:
        problems.append(f"rate {row.get('rate')!r} is not a number")
    if value is not None:
        if not value.is_finite() or value <= 0:
            problems.append(f"rate {row.get('rate')!r} must be a positive number")
        elif value != value.quantize(Decimal(1).scaleb(-RATE_SCALE)):
            problems.append(f"rate {row.get('rate')!r} has more than {RATE_SCALE} decimal places")
    if problems or day is None or value is None:
        return problems, None
    return [], (day, base, quote, value)


def parse_csv(file: IO[str]) -> list[tuple[int, Parsed]]:
    """Every row of a `date,base,quote,rate` CSV with its line number, or InvalidInput naming each bad
    row by its line."""
    reader = csv.DictReader(file)
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput([f"line 1: missing column(s) {', '.join(missing)} (expected {','.join(COLUMNS)})"],
                           "fx import")
    problems: list[str] = []
    rows: list[tuple[int, Parsed]] = []
    seen: dict[tuple[dt.date, str, str], int] = {}
    for row in reader:
        line = reader.line_num
        found, parsed = _row_problems(row)
        problems += [f"line {line}: {p}" for p in found]
        if parsed is None:
            continue
        key = parsed[:3]
        if key in seen:
            problems.append(f"line {line}: {key[1]}→{key[2]} on {key[0]} is already on line {seen[key]}")
        seen.setdefault(key, line)
        rows.append((line, parsed))
    if problems:
        raise InvalidInput(problems, "fx import")
    return rows


def _store(session: Session, rows: Iterable[Parsed], source: str,
           where: Sequence[str] | None = None) -> Loaded:
    """Add the rows not stored yet; a stored rate for the same pair and day must agree (else nothing loads)."""
    rows = list(rows)
    stored = {(r.date, r.base, r.quote): r.rate for r in session.scalars(select(FxRate).where(
        FxRate.date.in_({r[0] for r in rows}), FxRate.base.in_({r[1] for r in rows})))} if rows else {}
    problems, unchanged, new = [], 0, []
    for i, (day, base, quote, value) in enumerate(rows):
        before = stored.get((day, base, quote))
        if before is None:
            new.append(FxRate(base=base, quote=quote, date=day, rate=value, source=source))
        elif before == value:
            unchanged += 1
        else:
            place = where[i] if where else f"{base}→{quote} {day}"
            problems.append(f"{place}: {base}→{quote} on {day} is already stored as {before.normalize():f}, "
                            f"not {value.normalize():f}")
    if problems:
        raise InvalidInput(problems, f"fx {source}")
    session.add_all(new)
    session.flush()
    return Loaded(len(new), unchanged)


def import_csv(session: Session, file: IO[str] | str) -> Loaded:
    """Load a `date,base,quote,rate` CSV (its text, or an open file): all rows, or none and every problem."""
    handle = io.StringIO(file) if isinstance(file, str) else file
    rows = parse_csv(handle)
    return _store(session, [row for _line, row in rows], "import", [f"line {line}" for line, _row in rows])


def ecb_rates(start: dt.date, end: dt.date, currencies: Sequence[str]) -> list[Parsed]:
    """EUR→currency for each day the ECB published one in [start, end], from CurrencyConverter's bundled
    history. Days without a published rate (weekends, holidays) are left out rather than interpolated
    (`fallback_on_missing_rate` off): a stored rate is always one the ECB published, and `rate` already
    takes the latest one on or before a day."""
    from currency_converter import CurrencyConverter, RateNotFoundError

    if start > end:
        raise InvalidInput([f"--from {start} is after --to {end}"], "fx seed")
    converter = CurrencyConverter(decimal=True, fallback_on_missing_rate=False)
    known = set(converter.currencies)
    wanted = [c.upper() for c in currencies] or sorted(known - {ECB_BASE})
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise InvalidInput([f"{c}: the ECB publishes no rate for it" for c in unknown], "fx seed")
    out = []
    for offset in range((end - start).days + 1):
        day = start + dt.timedelta(days=offset)
        for code in wanted:
            if code == ECB_BASE:
                continue
            try:
                value = Decimal(converter.convert(1, ECB_BASE, code, date=day))
            except RateNotFoundError:
                continue
            out.append((day, ECB_BASE, code, value))
    return out


def seed_ecb(session: Session, start: dt.date, end: dt.date, currencies: Sequence[str] = ()) -> Loaded:
    """Store the ECB's reference rates (EUR→each currency, default every one it publishes) for [start, end]."""
    return _store(session, ecb_rates(start, end, currencies), "ecb")
