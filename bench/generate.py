"""Synthetic billing data for benchmarks: clients, T&M contracts and a year of timesheets
(`--mix tm`, the default), or a whole portfolio with contracts of every kind (`--mix all`).

The rows are the ones `billpact import` would store for the same file — `contract.written` is the
import model dumped as JSON, amendments likewise, `contract_version` rows and `contract.end` come
from the same `amended_versions`, and every time entry carries its `period_end` — but they are
written straight into the tables with SQLAlchemy Core executemany in chunks, so a million entries
load in seconds instead of going through validation.

The data is valid as an import file (the test re-validates it with the import rules): roles on the
rate card, entries inside the contract, overtime only with a multiplier, at most 3 entries of at
most 8 h per person and day (≤ 24 h). The same arguments always give the same rows.

    python -m bench.generate --db sqlite:///bench.db --contracts 200 --entries 100000
    python -m bench.generate --db sqlite:///bench.db --init --size S --mix all

`--size S|M|L` takes contracts and entries from `bench.common.SIZES` (S: 1k contracts, 100k entries;
M: 10k, 1M; L: 100k, 10M). `--mix all` (see `bench/portfolio.py` for the proportions): 55 % of the
contracts are this T&M plan and get every time entry; the other kinds, expenses, milestones,
progress reports, resales and payments on account are one import document loaded with
`import_document` (what `billpact import` stores), and the time entries are then written in bulk
as for `--mix tm`.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, func, insert, select

from bench.common import SIZES
from billpact.clients.models import Client
from billpact.contracts.history import amended_versions
from billpact.contracts.models import Amendment, Contract, ContractVersion
from billpact.core.calendar import calendar_period
from billpact.events.models import TimeEntry
from billpact.importing import models as m
from billpact.organization.models import Organization

CHUNK = 10_000                     # rows per executemany
COMMIT_EVERY = 100_000             # time entries per transaction
ENTRIES_PER_PERSON_DAY = 3         # × at most 8 h: never over 24 h a day
OVERTIME_SHARE = 0.03
AMENDED_SHARE = 0.35               # contracts whose rates go up mid-year
CAPPED_SHARE = 0.20                # contracts with a not-to-exceed cap

# role: (lowest, highest) hourly rate; rate cards take 3–4 of them, in multiples of 5.
ROLES: dict[str, tuple[int, int]] = {
    "principal": (240, 340), "project_manager": (160, 230), "senior_engineer": (180, 260),
    "engineer": (120, 180), "drafter": (80, 120), "technician": (70, 110),
}
HOURS = [Decimal(h) for h in ("8", "7.5", "6", "4", "3.5", "2", "1.5", "1", "0.75", "0.5", "0.25")]
HOURS_WEIGHTS = [30, 18, 10, 12, 6, 8, 4, 5, 2, 3, 2]
OVERTIME_HOURS = [Decimal(h) for h in ("1", "1.5", "2", "2.5", "3", "4")]
NOTES = ["site visit", "design review", "client meeting", "rework after comments", "calculations", None]
CLIENT_KINDS = [  # currency, tax rate, weight
    ("USD", Decimal("0"), 45), ("USD", Decimal("0.08"), 25), ("EUR", Decimal("0.19"), 20), ("GBP", Decimal("0.20"), 10),
]
PAYMENT_TERMS = ["net30", "net30", "net45", "net15", "eom", "eom30"]


@dataclass
class ContractPlan:
    """One generated contract and how its timesheets are spread (all decided up front)."""

    index: int
    code: str
    client: int                        # index into Plan.clients
    start: date
    end: date | None
    rates: dict[str, Decimal]
    team: list[tuple[str, str]]        # (person, role)
    entries: int
    cap: Decimal | None = None
    excess: str = "hold"
    amended: date | None = None        # effective date of the rate raise
    new_rates: dict[str, Decimal] = field(default_factory=dict)
    new_cap: Decimal | None = None

    def written(self, client: m.Client) -> m.Contract:
        nte = None if self.cap is None else m.NotToExceed(amount=self.cap, excess=self.excess)
        return m.Contract(
            id=self.code, client=client.id, title=f"Engineering services {self.code} (T&M)", start=self.start,
            end=self.end, cycle="monthly", not_to_exceed=nte,
            terms=[m.TimeTerm(kind="time", rates=self.rates, overtime_multiplier=Decimal("1.5"))])

    def amendment(self) -> m.Amendment | None:
        if self.amended is None:
            return None
        changes: dict[str, Any] = {"terms.time.rates": {r: str(v) for r, v in self.new_rates.items()}}
        if self.new_cap is not None:
            changes["not_to_exceed.amount"] = str(self.new_cap)
        return m.Amendment(contract=self.code, effective=self.amended, set=changes, note="annual rate review")


@dataclass
class Plan:
    seed: int
    year: int
    clients: list[m.Client]
    contracts: list[ContractPlan]

    @property
    def entries(self) -> int:
        return sum(c.entries for c in self.contracts)


@dataclass
class Generated:
    clients: int
    contracts: int
    amendments: int
    capped: int
    entries: int
    seconds: float
    kinds: dict[str, int] = field(default_factory=dict)     # --mix all: contracts per kind
    events: dict[str, int] = field(default_factory=dict)    # --mix all: what the import document stored


def _workdays(first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _apportion(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights`, exactly (largest remainder)."""
    whole = sum(weights)
    if total == 0 or whole == 0:
        return [0] * len(weights)
    raw = [total * w / whole for w in weights]
    out = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)[: total - sum(out)]:
        out[i] += 1
    return out


def plan(contracts: int = 2000, entries: int = 1_000_000, seed: int = 2026, year: int = 2026) -> Plan:
    """Clients and contracts, and how many entries each contract gets (deterministic for a seed)."""
    rng = random.Random(seed)
    clients = []
    for i in range(max(1, contracts // 8)):
        currency, tax, _w = rng.choices(CLIENT_KINDS, weights=[k[2] for k in CLIENT_KINDS])[0]
        clients.append(m.Client(id=f"CL-{i + 1:05d}", name=f"Client {i + 1} Ltd", currency=currency,
                                payment_terms=rng.choice(PAYMENT_TERMS), tax_rate=tax,
                                email=f"ap@client{i + 1}.example"))
    jan1, dec31 = date(year, 1, 1), date(year, 12, 31)
    starts = [jan1 if rng.random() < 0.8 else jan1 + timedelta(days=rng.randint(1, 89)) for _ in range(contracts)]
    weights = [rng.uniform(0.3, 1.7) * len(_workdays(s, dec31)) for s in starts]
    counts = _apportion(entries, weights)
    capped = set(rng.sample(range(contracts), round(CAPPED_SHARE * contracts)))
    amended = set(rng.sample(range(contracts), round(AMENDED_SHARE * contracts)))
    out = []
    for i, (start, count) in enumerate(zip(starts, counts, strict=True)):
        roles = rng.sample(sorted(ROLES), rng.choice((3, 4)))
        rates = {r: Decimal(f"{5 * rng.randint(ROLES[r][0] // 5, ROLES[r][1] // 5)}.00") for r in sorted(roles)}
        workdays = len(_workdays(start, dec31))
        needed = math.ceil(count / (workdays * ENTRIES_PER_PERSON_DAY * 0.35))  # months vary ×0.7–1.3
        size = max(len(roles) + rng.randint(0, 4), needed)
        team = [(f"p{i + 1:05d}-{k + 1:02d}", roles[k] if k < len(roles) else rng.choice(roles))
                for k in range(size)]
        c = ContractPlan(index=i, code=f"C-{i + 1:05d}", client=rng.randrange(len(clients)), start=start,
                         end=dec31 if rng.random() < 0.6 else None, rates=rates, team=team, entries=count)
        expected = count * Decimal("5.5") * sum(rates.values()) / len(rates)
        if i in capped:
            c.cap = max(Decimal(1000), (expected * Decimal(rng.uniform(0.6, 1.1)) / 1000).quantize(Decimal(1)) * 1000)
            c.excess = "hold" if rng.random() < 0.8 else "write_off"
        if i in amended:
            month = rng.randint(4, 10)
            c.amended = date(year, month, 1 if rng.random() < 0.75 else 15)
            c.new_rates = {r: v + 5 * rng.randint(1, 3) for r, v in rates.items()}
            if c.cap is not None and rng.random() < 0.5:
                c.new_cap = c.cap * Decimal("1.25")
        out.append(c)
    return Plan(seed, year, clients, out)


def time_rows(p: Plan) -> Iterator[dict[str, Any]]:
    """Every time entry, month by month (as monthly timesheet imports arrive), each contract's by date.

    `contract_pk` is the contract's index in the plan until `generate` replaces it with the stored pk.
    """
    rng = random.Random(p.seed * 7919 + 1)
    months = [calendar_period("monthly", date(p.year, mo, 1)) for mo in range(1, 13)]
    spread = []  # per contract: entries per month, in proportion to its working days × a monthly swing
    for c in p.contracts:
        days = [len(_workdays(max(c.start, period.start), period.end)) for period in months]
        spread.append(_apportion(c.entries, [d * rng.uniform(0.7, 1.3) for d in days]))
    seq = 0
    for mo, period in enumerate(months):
        for c in p.contracts:
            count = spread[c.index][mo]
            if not count:
                continue
            workdays = _workdays(max(c.start, period.start), period.end)
            per_day = len(c.team) * ENTRIES_PER_PERSON_DAY
            slots = sorted(rng.sample(range(len(workdays) * per_day), count))  # one slot = one entry of a person-day
            hours = rng.choices(HOURS, weights=HOURS_WEIGHTS, k=count)
            for slot, h in zip(slots, hours, strict=True):
                seq += 1
                person, role = c.team[(slot % per_day) // ENTRIES_PER_PERSON_DAY]
                overtime = rng.random() < OVERTIME_SHARE
                yield {"ext_id": f"T-{seq:08d}", "contract_pk": c.index, "date": workdays[slot // per_day],
                       "period_end": period.end, "person": person, "role": role,
                       "version_no": int(c.amended is not None and workdays[slot // per_day] >= c.amended),
                       "hours": rng.choice(OVERTIME_HOURS) if overtime else h, "overtime": overtime,
                       "note": rng.choice(NOTES) if rng.random() < 0.1 else None}


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def _chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _insert_returning(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    result = conn.execute(insert(table).returning(table.c.pk, sort_by_parameter_order=True), rows)
    return [r[0] for r in result]


def _contracts(conn: Connection, p: Plan) -> tuple[list[int], int]:
    """Organization, clients, contracts, amendments and versions; returns contract pks and amendments."""
    conn.execute(insert(_table(Organization)), [{"pk": 1, "name": "Bench Engineering Ltd", "currency": "USD",
                                                   "invoice_series": "INV-{seq:06d}",
                                                   "credit_note_series": "CN-{seq:06d}"}])
    client_pks = _insert_returning(conn, _table(Client), [
        {"code": c.id, "name": c.name, "currency": c.currency, "payment_terms": c.payment_terms,
         "tax_rate": c.tax_rate, "email": c.email} for c in p.clients])
    contract_rows, written, amendments = [], [], []
    for c in p.contracts:
        client = p.clients[c.client]
        model = c.written(client)
        amendment = c.amendment()
        versions = amended_versions(model, [(0, amendment)] if amendment else [])
        written.append((model, amendment, versions))
        contract_rows.append({"code": c.code, "client_pk": client_pks[c.client], "title": model.title,
                              "currency": model.currency or client.currency, "cycle": model.cycle,
                              "start": model.start, "end": versions[-1][1].end,
                              "written": model.model_dump(mode="json"), "closed_on": None})
    contract_pks = _insert_returning(conn, _table(Contract), contract_rows)
    version_rows = []
    for pk, (_model, amendment, versions) in zip(contract_pks, written, strict=True):
        if amendment is not None:
            amendments.append({"contract_pk": pk, "effective": amendment.effective,
                               "written": amendment.model_dump(mode="json")})
        for no, (valid_from, _v) in enumerate(versions):
            version_rows.append({"contract_pk": pk, "version_no": no,
                                 "valid_from": date.min if no == 0 else valid_from,
                                 "valid_until": versions[no + 1][0] if no + 1 < len(versions) else None})
    if amendments:
        conn.execute(insert(_table(Amendment)), amendments)
    conn.execute(insert(_table(ContractVersion)), version_rows)
    return contract_pks, len(amendments)


def _pragma(conn: Connection, pragma: str) -> None:
    # On the DB-API connection: SQLAlchemy would open a transaction first, where SQLite refuses it.
    conn.connection.driver_connection.execute(f"PRAGMA {pragma}")  # type: ignore[union-attr]


def generate(engine: Engine, contracts: int = 2000, entries: int = 1_000_000, seed: int = 2026,
             year: int = 2026) -> Generated:
    """Write the plan's rows into an initialised, empty database (`billpact init` / `upgrade`)."""
    began = time.perf_counter()
    p = plan(contracts, entries, seed, year)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            _pragma(conn, "synchronous=OFF")  # a benchmark load: durability is not the point
        with conn.begin():
            _refuse_filled(conn)
            contract_pks, amendments = _contracts(conn, p)
        written = _write_time(conn, p, contract_pks)
        _finish(conn, sqlite)
    return Generated(len(p.clients), len(p.contracts), amendments, sum(c.cap is not None for c in p.contracts),
                     written, time.perf_counter() - began)


def generate_all(engine: Engine, contracts: int = 2000, entries: int = 1_000_000, seed: int = 2026,
                 year: int = 2026) -> Generated:
    """`--mix all`: the portfolio's import document through `import_document`, then its time entries."""
    from bench.portfolio import portfolio
    from billpact.db.session import transaction
    from billpact.importing.service import import_document

    began = time.perf_counter()
    pf = portfolio(contracts, entries, seed, year)
    with engine.connect() as conn, conn.begin():
        _refuse_filled(conn)
    with transaction(engine) as session:
        summary = import_document(session, pf.document)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            _pragma(conn, "synchronous=OFF")
        codes = [c.code for c in pf.tm.contracts]
        pk_of = {code: pk for code, pk in conn.execute(select(Contract.code, Contract.pk))}
        conn.commit()
        written = _write_time(conn, pf.tm, [pk_of[code] for code in codes])
        _finish(conn, sqlite)
    events = {k: n for k, n in summary.counts.items() if n and k not in ("clients", "contracts", "amendments")}
    return Generated(summary.counts["clients"], summary.counts["contracts"], summary.counts["amendments"],
                     sum(c.cap is not None for c in pf.tm.contracts), written, time.perf_counter() - began,
                     pf.kinds, events)


def _refuse_filled(conn: Connection) -> None:
    if conn.scalar(select(func.count()).select_from(_table(Contract))):
        raise RuntimeError("the database already holds contracts: generate into an empty one")


def _write_time(conn: Connection, p: Plan, contract_pks: list[int]) -> int:
    """The plan's time entries, CHUNK rows a statement, committed every COMMIT_EVERY rows."""
    table = _table(TimeEntry)
    written = 0
    trans = conn.begin()
    for chunk in _chunks(time_rows(p)):
        for row in chunk:
            row["contract_pk"] = contract_pks[row["contract_pk"]]
        conn.execute(insert(table), chunk)
        written += len(chunk)
        if written % COMMIT_EVERY == 0:
            trans.commit()
            trans = conn.begin()
    trans.commit()
    return written


def _finish(conn: Connection, sqlite: bool) -> None:
    if not sqlite:  # what autovacuum would do soon after a bulk load; SQLite has no such thing
        # Only the tables written here: a bare ANALYZE would analyze every schema of the database.
        tables = ", ".join(_table(model).name for model in (Client, Contract, ContractVersion, Amendment, TimeEntry))
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(f"ANALYZE {tables}")
    else:
        _pragma(conn, "synchronous=NORMAL")  # as make_engine sets it


def main(argv: list[str] | None = None) -> None:
    from billpact.db.migrate import upgrade
    from billpact.db.session import make_engine

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of the database to fill")
    parser.add_argument("--contracts", type=int, default=None, help="default 2000 (or the --size's)")
    parser.add_argument("--entries", type=int, default=None, help="default 1,000,000 (or the --size's)")
    parser.add_argument("--size", choices=sorted(SIZES), default=None,
                        help="contracts and entries of a benchmark size (S: 1k, 100k; M: 10k, 1M; L: 100k, 10M)")
    parser.add_argument("--mix", choices=("tm", "all"), default="tm",
                        help="tm: T&M contracts only (default); all: contracts of every kind (bench/portfolio.py)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--init", action="store_true", help="create the schema first (billpact init)")
    args = parser.parse_args(argv)
    contracts, entries = SIZES[args.size] if args.size else (2000, 1_000_000)
    contracts = args.contracts if args.contracts is not None else contracts
    entries = args.entries if args.entries is not None else entries
    engine = make_engine(args.db)
    try:
        if args.init:
            upgrade(engine)
        fill = generate_all if args.mix == "all" else generate
        done = fill(engine, contracts, entries, args.seed)
    finally:
        engine.dispose()
    print(f"generated {done.clients} clients, {done.contracts} contracts ({done.amendments} amended, "
          f"{done.capped} capped), {done.entries} time entries in {done.seconds:.1f} s")
    if done.kinds:
        print("contracts: " + ", ".join(f"{n} {kind}" for kind, n in done.kinds.items())
              + "; events: " + ", ".join(f"{n} {name}" for name, n in done.events.items()))


if __name__ == "__main__":
    main()

