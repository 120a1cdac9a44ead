"""`billpact import`: validate a whole file against itself and the database, then load it in one
transaction — or load nothing and report every problem."""

from __future__ import annotations

import json
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, case, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from billpact.audit import service as audit
from billpact.billing import lock
from billpact.clients.models import Client
from billpact.contracts.history import amended_versions
from billpact.contracts.models import Amendment, Contract, ContractVersion
from billpact.core.calendar import calendar_period
from billpact.db.bulk import insert_rows, write_rows
from billpact.db.chunks import chunks
from billpact.errors import InvalidInput
from billpact.events import models as ev
from billpact.importing import models as m
from billpact.importing.billed_rules import amendment_problems
from billpact.importing.upsert import contracts_as_amendments
from billpact.importing.validate import EVENT_LISTS, StoredState, validate_rules, validate_shape
from billpact.invoices.models import Invoice
from billpact.organization.models import Organization
from billpact.payments.service import apply_imported


@dataclass
class ImportSummary:
    counts: dict[str, int] = field(default_factory=dict)


def import_document(session: Session, raw: Any, *, upsert: bool = False) -> ImportSummary:
    """Validate `raw` (the parsed file) and load it; raises InvalidInput with every problem."""
    doc, problems = validate_shape(raw)
    if doc is None or problems:
        raise InvalidInput([str(p) for p in problems], "import")
    lock.take(session)
    if upsert:
        doc = contracts_as_amendments(session, doc)
    doc = _without_stored_amendments(session, doc, upsert)
    stored = stored_state(session, doc)
    refused = [str(p) for p in validate_rules(doc, stored, upsert=upsert)]
    refused += amendment_problems(session, doc) if not refused else []
    if refused:
        raise InvalidInput(refused, "import")
    summary = _load(session, doc, stored, upsert)
    _audit(session, doc, summary)
    return summary


def _audit(session: Session, doc: m.ImportFile, summary: ImportSummary) -> None:
    """Clients, contracts and amendments one record each, as written; events as counts per file."""
    changes = [audit.Change("client", c.id, "import", None, c.model_dump(mode="json")) for c in doc.clients]
    changes += [audit.Change("contract", c.id, "import", None, c.model_dump(mode="json")) for c in doc.contracts]
    changes += [audit.Change("contract", a.contract, "amend", None, a.model_dump(mode="json"))
                for a in doc.amendments]
    changes.append(audit.Change("import", "file", "load", None, {k: n for k, n in summary.counts.items() if n}))
    audit.record_many(session, changes)


def _without_stored_amendments(session: Session, doc: m.ImportFile, upsert: bool) -> m.ImportFile:
    """An amendment already stored (same contract, date and changes) is skipped with --upsert,
    refused without it: amendments have no ids, so this is how a file is not applied twice."""
    if not doc.amendments:
        return doc
    codes = sorted({a.contract for a in doc.amendments})
    stored = {(code, json.dumps(written, sort_keys=True)) for code, written in session.execute(
        select(Contract.code, Amendment.written).join(Contract, Contract.pk == Amendment.contract_pk)
        .where(Contract.code.in_(codes)))}
    keep, problems = [], []
    for i, amendment in enumerate(doc.amendments):
        if (amendment.contract, json.dumps(amendment.model_dump(mode="json"), sort_keys=True)) not in stored:
            keep.append(amendment)
        elif not upsert:
            problems.append(f"amendments[{i}]: this amendment of {amendment.contract} effective "
                            f"{amendment.effective} is already stored (use --upsert to skip it)")
    if problems:
        raise InvalidInput(problems, "import")
    return doc.model_copy(update={"amendments": keep})


# ---------------------------------------------------------------- what the rules need from the database



def stored_state(session: Session, doc: m.ImportFile) -> StoredState:
    state = StoredState()
    contract_ids = sorted({c.id for c in doc.contracts} | _referenced_contracts(doc))
    for chunk in chunks(contract_ids):
        for contract, client in session.execute(
                select(Contract, Client).join(Client, Client.pk == Contract.client_pk)
                .where(Contract.code.in_(chunk))):
            state.contracts[contract.code] = m.Contract.model_validate(contract.written)
            state.clients[client.code] = _client_model(client)
        for code, written in session.execute(
                select(Contract.code, Amendment.written).join(Contract, Contract.pk == Amendment.contract_pk)
                .where(Contract.code.in_(chunk)).order_by(Amendment.pk)):
            state.amendments.setdefault(code, []).append(m.Amendment.model_validate(written))
    client_ids = sorted({c.id for c in doc.clients} | {c.client for c in doc.contracts}
                        | {p.client for p in doc.payments})
    for chunk in chunks(client_ids):
        for client in session.scalars(select(Client).where(Client.code.in_(chunk))):
            state.clients[client.code] = _client_model(client)
    for name in EVENT_LISTS:
        ids = list({e.id for e in getattr(doc, name) if e.id is not None})
        state.event_ids[name] = _stored_ext_ids(session, _table(_EVENT_MODELS[name]), ids)
    _stored_hours(session, doc, state)
    _stored_progress(session, doc, state)
    numbers = sorted({p.invoice for p in doc.payments if p.invoice})
    for chunk in chunks(numbers):
        state.invoice_numbers.update(n for n in session.scalars(select(Invoice.number)
                                                                .where(Invoice.number.in_(chunk))) if n)
    return state


ID_BATCH = 100_000   # ids looked up per statement: one parameter, however many ids


def _stored_ext_ids(session: Session, table: Table, ids: list[str]) -> set[str]:
    """Which of `ids` are stored: a million ids in ten statements, each passing its ids as one
    parameter (a PostgreSQL array, a JSON array on SQLite) instead of an `IN` list of 500 binds."""
    found: set[str] = set()
    postgresql = session.get_bind().dialect.name == "postgresql"
    # The table name comes from the mapped Table, never from input; the ids are a parameter.
    sql = text(f"SELECT ext_id FROM {table.name} WHERE ext_id = ANY(:ids)" if postgresql  # noqa: S608
               else f"SELECT ext_id FROM {table.name} WHERE ext_id IN (SELECT value FROM json_each(:ids))")  # noqa: S608
    for chunk in chunks(ids, ID_BATCH):
        found.update(session.scalars(sql, {"ids": chunk if postgresql else json.dumps(chunk)}))
    return found


def _client_model(client: Client) -> m.Client:
    return m.Client(id=client.code, name=client.name, currency=client.currency,
                    payment_terms=client.payment_terms, tax_rate=client.tax_rate, email=client.email)


def _referenced_contracts(doc: m.ImportFile) -> set[str]:
    lists: list[Sequence[Any]] = [doc.amendments, doc.time, doc.expenses, doc.milestones, doc.progress,
                                  doc.resales, doc.retainage_releases, doc.budgets]
    return {record.contract for records in lists for record in records}


def _stored_hours(session: Session, doc: m.ImportFile, state: StoredState) -> None:
    if not doc.time:
        return
    persons = sorted({t.person for t in doc.time})
    first, last = min(t.date for t in doc.time), max(t.date for t in doc.time)
    for chunk in chunks(persons):
        for person, day, hours in session.execute(
                select(ev.TimeEntry.person, ev.TimeEntry.date, func.sum(ev.TimeEntry.hours))
                .where(ev.TimeEntry.person.in_(chunk), ev.TimeEntry.date.between(first, last))
                .group_by(ev.TimeEntry.person, ev.TimeEntry.date)):
            state.hours[(person, day)] = Decimal(hours)


def _stored_progress(session: Session, doc: m.ImportFile, state: StoredState) -> None:
    codes = sorted({p.contract for p in doc.progress})
    for chunk in chunks(codes):
        for code, day, item, percent in session.execute(
                select(Contract.code, ev.ProgressReport.date, ev.ProgressReport.item, ev.ProgressReport.percent)
                .join(Contract, Contract.pk == ev.ProgressReport.contract_pk).where(Contract.code.in_(chunk))):
            state.progress.setdefault((code, item), []).append((day, percent))


_EVENT_MODELS: dict[str, Any] = {
    "time": ev.TimeEntry, "expenses": ev.Expense, "milestones": ev.MilestoneEvent, "progress": ev.ProgressReport,
    "resales": ev.Resale, "retainage_releases": ev.RetainageRelease, "payments": ev.Payment,
}


# ---------------------------------------------------------------- loading

def _load(session: Session, doc: m.ImportFile, stored: StoredState, upsert: bool) -> ImportSummary:
    summary = ImportSummary()
    if doc.organization is not None:
        _organization(session, doc.organization)
    clients = _clients(session, doc, upsert)
    contracts, created = _contracts(session, doc, clients, upsert)
    _amendments(session, doc, contracts, created)
    pk_of = {code: c.pk for code, c in contracts.items()}
    cycles = {code: c.cycle for code, c in contracts.items()}
    version_of = _version_finder(session, list(pk_of.values()))
    period_end = _period_end_finder()
    summary.counts = {
        "clients": len(doc.clients), "contracts": len(doc.contracts), "amendments": len(doc.amendments),
    }
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in doc.time:
        rows["time"].append({"ext_id": t.id, "contract_pk": pk_of[t.contract], "date": t.date,
                             "period_end": period_end(cycles[t.contract], t.date),
                             "version_no": version_of(pk_of[t.contract], t.date), "person": t.person,
                             "role": t.role, "hours": t.hours, "overtime": t.overtime, "note": t.note})
    for e in doc.expenses:
        rows["expenses"].append({"ext_id": e.id, "contract_pk": pk_of[e.contract], "date": e.date,
                                 "period_end": period_end(cycles[e.contract], e.date),
                                 "version_no": version_of(pk_of[e.contract], e.date), "category": e.category,
                                 "amount": e.amount, "billable": e.billable, "note": e.note})
    for r in doc.resales:
        rows["resales"].append({"ext_id": r.id, "contract_pk": pk_of[r.contract], "date": r.date, "item": r.item,
                                "quantity": r.quantity, "unit_price": r.unit_price, "unit_cost": r.unit_cost})
    for p in doc.progress:
        rows["progress"].append({"ext_id": p.id, "contract_pk": pk_of[p.contract], "date": p.date,
                                 "item": p.item, "percent": p.percent})
    for rel in doc.retainage_releases:
        rows["retainage_releases"].append({"ext_id": rel.id, "contract_pk": pk_of[rel.contract],
                                           "date": rel.date, "percent": rel.percent, "amount": rel.amount})
    for ms in doc.milestones:
        rows["milestones"].append({"ext_id": ms.id, "contract_pk": pk_of[ms.contract], "milestone": ms.milestone,
                                   "completed": ms.completed, "accepted": ms.accepted})
    client_pk = {code: c.pk for code, c in clients.items()}
    for pay in doc.payments:
        rows["payments"].append({"ext_id": pay.id, "client_pk": client_pk[pay.client], "date": pay.date,
                                 "amount": pay.amount, "currency": pay.currency or _invoice_currency(session, pay),
                                 "invoice_number": pay.invoice, "reference": pay.reference})
    newest_payment = session.scalar(select(func.max(ev.Payment.pk))) or 0
    for name, records in rows.items():
        if upsert:
            records = _new_records(session, _EVENT_MODELS[name], records, stored.event_ids[name])
        _write_events(session, name, records)
        summary.counts[name] = len(records)
    for b in doc.budgets:
        session.add(ev.Budget(contract_pk=pk_of[b.contract], labor_hours=b.labor_hours, labor_cost=b.labor_cost,
                              expenses=b.expenses))
    for cr in doc.cost_rates:
        session.add(ev.CostRate(person=cr.person, rate=cr.rate, effective=cr.effective))
    summary.counts["budgets"], summary.counts["cost_rates"] = len(doc.budgets), len(doc.cost_rates)
    session.flush()
    apply_imported(session, doc.payments, newest_payment)  # allocated as `billpact pay` allocates
    return summary


# Lists that can run to millions of rows go to the database in bulk (COPY on PostgreSQL): every
# column is given, so no ORM default or event is skipped. The others stay ORM inserts.
_BULK_EVENTS = frozenset({"time", "expenses"})


def _write_events(session: Session, name: str, records: list[dict[str, Any]]) -> None:
    if not records:
        return
    if name in _BULK_EVENTS:
        columns = tuple(records[0])
        row_of = itemgetter(*columns)
        write_rows(session.connection(), _table(_EVENT_MODELS[name]), columns, [row_of(r) for r in records])
        return
    for chunk in chunks(records):
        session.execute(insert(_EVENT_MODELS[name]), list(chunk))


def _table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


def _period_end_finder() -> Callable[[str, date], date]:
    """period_end(cycle, day): the end of the billing period holding the day (a file repeats few days)."""
    ends: dict[tuple[str, date], date] = {}

    def period_end(cycle: str, day: date) -> date:
        key = (cycle, day)
        found = ends.get(key)
        if found is None:
            found = ends[key] = calendar_period(cycle, day).end  # type: ignore[arg-type]
        return found

    return period_end


def _new_records(session: Session, model: Any, records: list[dict[str, Any]], stored_ids: set[str]
                 ) -> list[dict[str, Any]]:
    """Under --upsert: drop records already stored — by id, or, without one, by identical content."""
    records = [r for r in records if r.get("ext_id") is None or r["ext_id"] not in stored_ids]
    anonymous = [r for r in records if r.get("ext_id") is None]
    if not anonymous:
        return records
    columns = [c for c in anonymous[0] if c not in ("ext_id", "period_end")]
    owner = "contract_pk" if "contract_pk" in columns else "client_pk"
    owners = sorted({r[owner] for r in anonymous})
    stored: Counter[tuple[Any, ...]] = Counter()
    table = model.__table__
    for chunk in chunks(owners):
        for row in session.execute(select(*[table.c[c] for c in columns])
                                   .where(table.c.ext_id.is_(None), table.c[owner].in_(chunk))):
            stored[tuple(_comparable(v) for v in row)] += 1
    fresh = []
    for record in records:
        key = tuple(_comparable(record[c]) for c in columns)
        if record.get("ext_id") is None and stored[key] > 0:
            stored[key] -= 1
            continue
        fresh.append(record)
    return fresh


def _comparable(value: Any) -> Any:
    return Decimal(value).normalize() if isinstance(value, Decimal | int) and not isinstance(value, bool) else value


def _invoice_currency(session: Session, payment: m.Payment) -> str:
    currency = session.scalar(select(Invoice.currency).where(Invoice.number == payment.invoice))
    return currency or ""


def details(record: m.Party, model: type[m.Party]) -> dict[str, Any] | None:
    """The party keys beyond the table's own columns, as written (None when the file gives none)."""
    keys = set(model.model_fields) - _COLUMNS[model]
    found = record.model_dump(mode="json", include=keys, exclude_none=True)
    return found or None


# The keys each table keeps in columns of its own (an organization's e-mail has none: it goes in details).
_COLUMNS: dict[type[m.Party], set[str]] = {
    m.Organization: {"name", "currency", "invoice_series", "credit_note_series"},
    m.Client: {"id", "name", "currency", "payment_terms", "tax_rate", "email"},
}


def _organization(session: Session, org: m.Organization) -> None:
    row = session.get(Organization, 1) or Organization(pk=1)
    row.name, row.currency = org.name, org.currency
    row.invoice_series, row.credit_note_series = org.invoice_series, org.credit_note_series
    row.details = details(org, m.Organization)
    session.add(row)


def _clients(session: Session, doc: m.ImportFile, upsert: bool) -> dict[str, Client]:
    codes = sorted({c.id for c in doc.clients} | {c.client for c in doc.contracts} | {p.client for p in doc.payments})
    found = {c.code: c for chunk in chunks(codes)
             for c in session.scalars(select(Client).where(Client.code.in_(chunk)))}
    for c in doc.clients:
        row = found.get(c.id) or Client(code=c.id)
        row.name, row.currency, row.payment_terms = c.name, c.currency, c.payment_terms
        row.tax_rate, row.email = c.tax_rate, c.email
        row.details = details(c, m.Client)
        session.add(row)
        found[c.id] = row
    session.flush()
    return found


def _contracts(session: Session, doc: m.ImportFile, clients: dict[str, Client], upsert: bool
               ) -> tuple[dict[str, Contract], set[str]]:
    """Every contract the file writes or names, by code; and the codes of those it creates."""
    codes = sorted({c.id for c in doc.contracts} | _referenced_contracts(doc))
    found = {c.code: c for chunk in chunks(codes)
             for c in session.scalars(select(Contract).where(Contract.code.in_(chunk)))}
    created: set[str] = set()
    for c in doc.contracts:
        if c.id in found:  # upsert of a stored contract: unchanged (validation refused changes)
            continue
        client = clients[c.client]
        row = Contract(code=c.id, client_pk=client.pk, title=c.title, currency=c.currency or client.currency,
                       cycle=c.cycle, start=c.start, end=c.end, written=c.model_dump(mode="json"))
        session.add(row)
        found[c.id] = row
        created.add(c.id)
    session.flush()
    _first_versions(session, [found[code] for code in sorted(created)])
    for c in doc.contracts:
        if c.id not in created:
            _versions(session, found[c.id], c, [])
    return found, created


def _first_versions(session: Session, rows: list[Contract]) -> None:
    """A new contract's one version, from the beginning: what `_versions` stores without amendments,
    for thousands of contracts in one statement."""
    insert_rows(session.connection(), _table(ContractVersion), _VERSION_COLUMNS,
                [(row.pk, 0, date.min, None) for row in rows])


_VERSION_COLUMNS = ("contract_pk", "version_no", "valid_from", "valid_until")


def _amendments(session: Session, doc: m.ImportFile, contracts: dict[str, Contract], created: set[str]) -> None:
    in_file: dict[str, list[m.Amendment]] = defaultdict(list)
    for a in doc.amendments:
        row = contracts[a.contract]
        session.add(Amendment(contract_pk=row.pk, effective=a.effective, written=a.model_dump(mode="json")))
        in_file[a.contract].append(a)
    session.flush()
    fresh: list[tuple[Contract, list[m.Amendment]]] = []
    for code in sorted(in_file):
        row = contracts[code]
        if code in created:  # its amendments are this file's, stored in file order (as pk order reads them)
            fresh.append((row, [m.Amendment.model_validate(a.model_dump(mode="json")) for a in in_file[code]]))
            continue
        written = m.Contract.model_validate(row.written)
        amendments = [m.Amendment.model_validate(a.written) for a in session.scalars(
            select(Amendment).where(Amendment.contract_pk == row.pk).order_by(Amendment.pk))]
        _versions(session, row, written, amendments)
    _new_contracts_versions(session, fresh)


def _new_contracts_versions(session: Session, amended: list[tuple[Contract, list[m.Amendment]]]) -> None:
    """`_versions` for contracts this import creates, in bulk: their one stored version replaced by the
    amended ones; no entry of theirs is stored yet, so none needs renumbering."""
    rows = []
    for row, amendments in amended:
        versions = amended_versions(m.Contract.model_validate(row.written), list(enumerate(amendments)))
        for no, (valid_from, _model) in enumerate(versions):
            until = versions[no + 1][0] if no + 1 < len(versions) else None
            rows.append((row.pk, no, date.min if no == 0 else valid_from, until))
        row.end = versions[-1][1].end
    for chunk in chunks([row.pk for row, _a in amended]):
        session.execute(delete(ContractVersion).where(ContractVersion.contract_pk.in_(chunk)),
                        execution_options={"synchronize_session": False})
    insert_rows(session.connection(), _table(ContractVersion), _VERSION_COLUMNS, rows)


def _versions(session: Session, row: Contract, written: m.Contract, amendments: list[m.Amendment]) -> None:
    """Store the rate versions' date ranges, the end as last amended (periods clip to it), and
    renumber the versions of the contract's stored entries (an amendment may split a version)."""
    versions = amended_versions(written, list(enumerate(amendments)))
    session.query(ContractVersion).filter(ContractVersion.contract_pk == row.pk).delete()
    for no, (valid_from, _model) in enumerate(versions):
        until = versions[no + 1][0] if no + 1 < len(versions) else None
        session.add(ContractVersion(contract_pk=row.pk, version_no=no,
                                    valid_from=date.min if no == 0 else valid_from, valid_until=until))
    row.end = versions[-1][1].end
    if len(versions) > 1:
        for model in (ev.TimeEntry, ev.Expense):
            numbering = case(*[(model.date >= valid_from, no) for no, (valid_from, _m) in reversed(
                list(enumerate(versions))) if no > 0], else_=0)
            session.execute(update(model).where(model.contract_pk == row.pk).values(version_no=numbering),
                            execution_options={"synchronize_session": False})


def _version_finder(session: Session, contract_pks: list[int]) -> Callable[[int, date], int]:
    """version_no(contract pk, day): the contract version in force on the day."""
    starts: dict[int, list[date]] = defaultdict(list)
    for chunk in chunks(contract_pks):
        for pk, valid_from in session.execute(select(ContractVersion.contract_pk, ContractVersion.valid_from)
                                              .where(ContractVersion.contract_pk.in_(chunk))
                                              .order_by(ContractVersion.contract_pk, ContractVersion.version_no)):
            starts[pk].append(valid_from)

    def version_no(contract_pk: int, day: date) -> int:
        return max(bisect_right(starts[contract_pk], day) - 1, 0)

    return version_no
