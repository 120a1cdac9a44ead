"""Validation of an import file (spec §2, §8, §9): every problem, each with its path in the file.

Two stages:

- `validate_shape` checks each record against the models (types, required and
  unknown keys, positivity, fractions) and turns every pydantic error into a
  `Problem` whose path is written in the file's own notation
  (`contracts[2].terms[0].rates.engineer`);
- `validate_rules` checks what needs more than one record, or what the database
  already holds (`StoredState`): references, dates against the contract, terms
  in force, hours per day, schedules, progress, currencies, duplicate ids.

Nothing stops at the first problem: all of them are reported at once. The rules
only run on a file whose shape is valid (they need the typed records).
"""

from __future__ import annotations

import json
import re
import types
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Context, Decimal, Inexact, InvalidOperation, localcontext
from string import Formatter
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from billpact.contracts.history import AmendmentProblem, amended_versions
from billpact.core.money import is_currency
from billpact.core.terms import term_keys
from billpact.importing import models as m

EVENT_LISTS: tuple[str, ...] = (
    "time", "expenses", "milestones", "progress", "resales", "retainage_releases", "payments",
)
MAX_HOURS_PER_DAY = Decimal(24)
EXACT_DIGITS = 10_000          # precision for exact schedule sums (a file's numbers are far shorter)
FRACTION_MESSAGE = 'must be a fraction between 0 and 1 ("0.10" is 10 %)'


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an import file, at a path in the file (or a line, or nowhere)."""

    path: str      # e.g. "contracts[2].terms[0].rates.engineer"
    message: str   # e.g. "must be a positive decimal"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass
class StoredState:
    """What the database already holds that the rules need; filled by the import service."""

    clients: dict[str, m.Client] = field(default_factory=dict)
    contracts: dict[str, m.Contract] = field(default_factory=dict)            # written contracts as stored
    amendments: dict[str, list[m.Amendment]] = field(default_factory=dict)   # stored, per contract id
    event_ids: dict[str, set[str]] = field(default_factory=dict)             # list name -> stored ids
    hours: dict[tuple[str, date], Decimal] = field(default_factory=dict)     # stored hours per (person, day)
    progress: dict[tuple[str, str], list[tuple[date, Decimal]]] = field(default_factory=dict)
    invoice_numbers: set[str] = field(default_factory=set)                  # numbers of issued invoices


# ---------------------------------------------------------------- paths in the file's notation

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


def at(*parts: str | int) -> str:
    """A path in the file's notation: at("contracts", 2, "terms", 0, "rates", "engineer")."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _PLAIN_KEY.match(part):
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
        else:
            out += f".{part}" if out else part
    return out


def _sub(path: str, fragment: str) -> str:
    """`path` followed by a fragment already in path notation ("set.terms.time.rates", "add[0].id")."""
    if not path or not fragment:
        return path or fragment
    return path + fragment if fragment.startswith("[") else f"{path}.{fragment}"


# ---------------------------------------------------------------- stage 1: the shape

def validate_shape(raw: Any) -> tuple[m.ImportFile | None, list[Problem]]:
    """The typed file, or None and one Problem per pydantic error."""
    try:
        return m.ImportFile.model_validate(raw), []
    except ValidationError as exc:
        return None, [_shape_problem(err) for err in exc.errors()]


@dataclass(frozen=True)
class _Target:
    """What a pydantic error location points at: its type and its constraints."""

    tp: Any
    constraints: tuple[Any, ...] = ()


def _shape_problem(err: ErrorDetails) -> Problem:
    parts, target = _locate(err["loc"])
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        parts.append("kind")
    if not parts and err["type"] == "model_type":
        return Problem("", "the file must be a mapping of top-level keys (clients, contracts, time, ...)")
    return Problem(at(*parts), _shape_message(err, target))


def _locate(loc: tuple[int | str, ...]) -> tuple[list[str | int], _Target | None]:
    """The file's path of a pydantic location (without union tags), and what it points at."""
    parts: list[str | int] = []
    target: _Target | None = _unwrap(m.ImportFile)
    for part in loc:
        if target is not None:
            member = _tagged_member(target.tp, part)
            if member is not None:          # the discriminator tag pydantic inserts: not in the file
                target = _Target(member)
                continue
            target = _step(target.tp, part)
        parts.append(part)
    return parts, target


def _unwrap(tp: Any, constraints: Iterable[Any] = ()) -> _Target:
    """Strip Annotated and Optional, collecting the constraints (Gt, Le, patterns...)."""
    found = list(constraints)
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            base, *extra = get_args(tp)
            for item in extra:
                found.extend(item.metadata if isinstance(item, FieldInfo) else [item])
            tp = base
            continue
        if origin in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return _Target(tp, tuple(found))


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _tagged_member(tp: Any, part: int | str) -> type[BaseModel] | None:
    if get_origin(tp) not in (Union, types.UnionType) or not isinstance(part, str):
        return None
    for member in get_args(tp):
        kind = member.model_fields.get("kind") if _is_model(member) else None
        if kind is not None and part in get_args(kind.annotation):
            return member  # type: ignore[no-any-return]
    return None


def _step(tp: Any, part: int | str) -> _Target | None:
    if _is_model(tp):
        info = tp.model_fields.get(part) if isinstance(part, str) else None
        return _unwrap(info.annotation, info.metadata) if info is not None else None
    origin, args = get_origin(tp), get_args(tp)
    if origin is list and isinstance(part, int):
        return _unwrap(args[0])
    if origin is dict and len(args) == 2:
        return _unwrap(args[1])
    return None


_DATE_ERRORS = frozenset({
    "date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact",
    "datetime_type", "datetime_parsing",
})
_NUMBER_ERRORS = frozenset({
    "decimal_type", "decimal_parsing", "finite_number", "greater_than", "greater_than_equal",
    "less_than", "less_than_equal", "decimal_max_digits", "decimal_max_places", "decimal_whole_digits",
})
_SIMPLE_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown key",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_too_short": "must not be empty",
}


def _pattern_of(annotated: Any) -> str | None:
    return next((c.pattern for c in get_args(annotated)[1:] if hasattr(c, "pattern")), None)


_PATTERN_MESSAGES = {
    _pattern_of(m.Currency): "must be an ISO 4217 currency code in capitals (USD, EUR, …)",
    _pattern_of(m.PaymentTerms): "must be net<N>, eom, eom<N> or due_on_receipt",
}


def _shape_message(err: ErrorDetails, target: _Target | None) -> str:
    kind = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    if kind in _SIMPLE_MESSAGES:
        return _SIMPLE_MESSAGES[kind]
    if kind in _DATE_ERRORS:
        return "must be a date (YYYY-MM-DD)"
    if kind == "decimal_max_places":
        return f"must have at most {ctx.get('decimal_places')} decimal places"
    if kind == "less_than_equal" and ctx.get("le") == m.MAX_AMOUNT:
        return f"must be at most {m.MAX_AMOUNT}"
    if kind in _NUMBER_ERRORS:
        return _number_message(target.constraints if target is not None else ())
    if kind == "literal_error":
        return "must be one of: " + ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))) or _term_kinds(target)
        return f"must be one of: {tags}" if kind == "union_tag_invalid" else f"required (one of: {tags})"
    if kind == "string_pattern_mismatch":
        return _PATTERN_MESSAGES.get(str(ctx.get("pattern")), f"must match {ctx.get('pattern')}")
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "string_type":
        shown = err.get("input")
        if isinstance(shown, int | float | Decimal | date):
            return f'must be text (quote it: "{shown}")'
        return "must be text"
    if kind == "too_short":
        least = ctx.get("min_length", 1)
        return "must not be empty" if least == 1 else f"must have at least {least} entries"
    message = err["msg"]
    return message[:1].lower() + message[1:]


def _term_kinds(target: _Target | None) -> str:
    if target is None or get_origin(target.tp) not in (Union, types.UnionType):
        return ""
    kinds = [get_args(a.model_fields["kind"].annotation)[0] for a in get_args(target.tp) if _is_model(a)]
    return ", ".join(kinds)


def _number_message(constraints: Sequence[Any]) -> str:
    # annotated_types' Le / Gt / Ge, as pydantic keeps them in a field's metadata
    if any(getattr(c, "le", None) == 1 for c in constraints):
        return FRACTION_MESSAGE
    if any(getattr(c, "gt", None) == 0 for c in constraints):
        return "must be a positive decimal"
    if any(getattr(c, "ge", None) == 0 for c in constraints):
        return "must be a decimal, zero or more"
    return "must be a decimal"


# ---------------------------------------------------------------- stage 2: the rules

Version = tuple[date, m.Contract]
TermModel = m.TimeTerm | m.ExpenseTerm | m.FixedTerm | m.MilestoneTerm | m.RecurringTerm | m.ProgressTerm \
    | m.ResaleTerm


@dataclass
class _ContractInfo:
    """One contract the file refers to: written (file or stored) and its dated versions."""

    model: m.Contract
    index: int | None                                  # j of contracts[j] when the file writes it
    versions: list[Version]
    amendments_on: dict[date, list[int]] = field(default_factory=dict)   # file amendment indexes applied

    @property
    def id(self) -> str:
        return self.model.id

    @property
    def start(self) -> date:
        return self.model.start

    @property
    def end(self) -> date | None:
        """The end as last amended (None: open)."""
        return self.versions[-1][1].end

    def on(self, day: date) -> m.Contract | None:
        """The version in force on `day`; None before the start."""
        if day < self.start:
            return None
        if len(self.versions) == 1:
            return self.versions[0][1]
        index = bisect_right([d for d, _ in self.versions], day) - 1
        return self.versions[max(index, 0)][1]

    def every_term(self) -> Iterable[TermModel]:
        for _, version in self.versions:
            yield from version.terms


@dataclass
class _Context:
    doc: m.ImportFile
    stored: StoredState
    upsert: bool
    clients: dict[str, m.Client]
    contracts: dict[str, _ContractInfo]
    amendment_problems: list[Problem]

    def stored_ids(self, list_name: str) -> set[str]:
        return self.stored.event_ids.get(list_name, set())


def validate_rules(doc: m.ImportFile, stored: StoredState, *, upsert: bool = False) -> list[Problem]:
    """Every rule that needs more than one record or the stored state; all problems at once."""
    ctx = _context(doc, stored, upsert)
    problems: list[Problem] = []
    for rule in _RULES:
        problems.extend(rule(ctx))
    return problems


def validate(raw: Any, stored: StoredState, *, upsert: bool = False
             ) -> tuple[m.ImportFile | None, list[Problem]]:
    """Shape, then rules. The typed file is returned whenever its shape is valid; load it only
    when the problem list is empty."""
    doc, problems = validate_shape(raw)
    if doc is None:
        return None, problems
    return doc, validate_rules(doc, stored, upsert=upsert)


# ------------------------------------------------ the context: clients, contracts and their versions

def _context(doc: m.ImportFile, stored: StoredState, upsert: bool) -> _Context:
    clients = dict(stored.clients)
    clients.update({c.id: c for c in reversed(doc.clients)})      # the file's first writing wins
    ctx = _Context(doc, stored, upsert, clients, {}, [])
    written: dict[str, tuple[m.Contract, int | None]] = {
        cid: (stored.contracts[cid], None) for cid in sorted(_referenced_contracts(doc)) if cid in stored.contracts
    }
    for j, contract in reversed(list(enumerate(doc.contracts))):
        written[contract.id] = (contract, j)
    amendments: dict[str, list[tuple[int, m.Amendment]]] = {}
    for i, amendment in enumerate(doc.amendments):
        amendments.setdefault(amendment.contract, []).append((i, amendment))
    for cid, (model, index) in written.items():
        ctx.contracts[cid] = _contract_info(ctx, model, index, amendments.get(cid, []))
    return ctx


def _referenced_contracts(doc: m.ImportFile) -> set[str]:
    """The contract ids the file names (only those of the stored contracts are needed)."""
    lists: list[Sequence[Any]] = [doc.amendments, doc.time, doc.expenses, doc.milestones, doc.progress,
                                  doc.resales, doc.retainage_releases, doc.budgets]
    return {record.contract for records in lists for record in records} | {c.id for c in doc.contracts}


def _contract_info(ctx: _Context, model: m.Contract, index: int | None,
                   in_file: list[tuple[int, m.Amendment]]) -> _ContractInfo:
    stored = ctx.stored.amendments.get(model.id, [])
    pairs = [(k - len(stored), a) for k, a in enumerate(stored)]
    pairs += [(i, a) for i, a in in_file if not (ctx.upsert and a in stored)]   # re-imported: already applied
    while True:
        try:
            versions = amended_versions(model, pairs)
            break
        except AmendmentProblem as exc:
            path = at("contracts", index) if index is not None else None
            ctx.amendment_problems.append(_amendment_problem(exc, model, path, stored))
            pairs = [p for p in pairs if p[0] != exc.index]
    info = _ContractInfo(model, index, versions)
    for i, amendment in pairs:
        if i >= 0:
            info.amendments_on.setdefault(amendment.effective, []).append(i)
    return info


def _amendment_problem(exc: AmendmentProblem, model: m.Contract, path: str | None,
                       stored: Sequence[m.Amendment]) -> Problem:
    if exc.index >= 0:
        return Problem(_sub(at("amendments", exc.index), exc.where), exc.message)
    amendment = stored[exc.index + len(stored)]
    return Problem(path or "", f"the stored amendment of contract {model.id} effective {amendment.effective} "
                               f"no longer applies: {exc.where}: {exc.message}")


# ------------------------------------------------ duplicate ids

def _duplicate_ids(ctx: _Context) -> list[Problem]:
    problems = _duplicates("clients", [c.id for c in ctx.doc.clients], set(ctx.stored.clients), ctx.upsert)
    problems += _duplicates("contracts", [c.id for c in ctx.doc.contracts], set(ctx.stored.contracts),
                            ctx.upsert)
    for j, contract in enumerate(ctx.doc.contracts):
        problems += _duplicates(at("contracts", j, "terms"), [t.id for t in contract.terms], set(), False,
                                what="term id")
    for name in EVENT_LISTS:
        events: list[Any] = getattr(ctx.doc, name)
        problems += _duplicates(name, [e.id for e in events], ctx.stored_ids(name), ctx.upsert)
    return problems


def _duplicates(list_path: str, ids: Sequence[str | None], stored: set[str], upsert: bool,
                what: str = "id") -> list[Problem]:
    """Ids written twice in one list, or already stored (not an error with upsert: applied as changes)."""
    problems = []
    first: dict[str, int] = {}
    for i, ident in enumerate(ids):
        if ident is None:
            continue
        if ident in first:
            also = _sub(list_path, f"[{first[ident]}]")
            problems.append(Problem(_sub(list_path, f"[{i}].id"),
                                    f"duplicate {what} {ident!r} (also {also})"))
            continue
        first[ident] = i
        if ident in stored and not upsert:
            problems.append(Problem(_sub(list_path, f"[{i}].id"),
                                    f"duplicate {what} {ident!r} (already stored)"))
    return problems


# ------------------------------------------------ currencies

def _currencies(ctx: _Context) -> list[Problem]:
    doc = ctx.doc
    written: list[tuple[str, str | None]] = []
    if doc.organization is not None:
        written.append((at("organization", "currency"), doc.organization.currency))
    written += [(at("clients", i, "currency"), c.currency) for i, c in enumerate(doc.clients)]
    written += [(at("contracts", i, "currency"), c.currency) for i, c in enumerate(doc.contracts)]
    written += [(at("payments", i, "currency"), p.currency) for i, p in enumerate(doc.payments)]
    return [Problem(path, f"{code!r} is not an ISO 4217 currency code")
            for path, code in written if code is not None and not is_currency(code)]


# ------------------------------------------------ invoice series

def _series(ctx: _Context) -> list[Problem]:
    """Series are format strings with `{seq}` and optionally `{year}` (spec §8)."""
    organization = ctx.doc.organization
    if organization is None:
        return []
    problems = []
    for name in ("invoice_series", "credit_note_series"):
        message = _series_problem(getattr(organization, name))
        if message is not None:
            problems.append(Problem(at("organization", name), message))
    return problems


def _series_problem(pattern: str) -> str | None:
    usage = "must be a format string such as INV-{seq:06d} (fields: {seq}, optionally {year})"
    try:
        fields = {f for _, f, _, _ in Formatter().parse(pattern) if f is not None}
    except ValueError:
        return usage
    unknown = sorted(fields - {"seq", "year"})
    if unknown:
        return f"unknown field {{{unknown[0]}}}: only {{seq}} and {{year}} are allowed"
    if "seq" not in fields:
        return "must contain {seq} (e.g. INV-{seq:06d})"
    try:
        pattern.format(seq=1, year=2026)
    except (ValueError, KeyError, IndexError, AttributeError):
        return usage
    return None


# ------------------------------------------------ references shared by the rules

def _client_references(ctx: _Context) -> list[Problem]:
    """Every contract needs its client (its currency defaults to the client's)."""
    return [Problem(at("contracts", j, "client"), f"unknown client {c.client!r}")
            for j, c in enumerate(ctx.doc.contracts) if c.client not in ctx.clients]


def _contract_of(ctx: _Context, path: str, contract_id: str, out: list[Problem]) -> _ContractInfo | None:
    info = ctx.contracts.get(contract_id)
    if info is None:
        out.append(Problem(_sub(path, "contract"), f"unknown contract {contract_id!r}"))
    return info


def _within_contract(info: _ContractInfo, path: str, day: date, out: list[Problem]) -> bool:
    """A dated item (time, expense, resale, progress) lies within start..end (end as last amended)."""
    if _not_before_start(info, path, day, out):
        if info.end is None or day <= info.end:
            return True
        out.append(Problem(path, f"{day} is after the end of contract {info.id} ({info.end})"))
    return False


def _not_before_start(info: _ContractInfo, path: str, day: date, out: list[Problem]) -> bool:
    if day >= info.start:
        return True
    out.append(Problem(path, f"{day} is before the start of contract {info.id} ({info.start})"))
    return False


def _version_with(info: _ContractInfo, path: str, day: date, kind: str,
                  out: list[Problem]) -> m.Contract | None:
    """The version in force on `day` when it has a term of `kind` (else a problem)."""
    version = info.on(day)
    if version is None:
        return None
    if not any(t.kind == kind for t in version.terms):
        out.append(Problem(path, f"no {kind} term of contract {info.id} is in force on {day}"))
        return None
    return version


def _dated_item(ctx: _Context, list_name: str, i: int, contract_id: str, day: date, kind: str,
                out: list[Problem]) -> tuple[_ContractInfo, m.Contract] | None:
    """Contract known, date within it, a term of `kind` in force on the date."""
    path = at(list_name, i)
    info = _contract_of(ctx, path, contract_id, out)
    if info is None or not _within_contract(info, _sub(path, "date"), day, out):
        return None
    version = _version_with(info, _sub(path, "date"), day, kind, out)
    return (info, version) if version is not None else None


# ------------------------------------------------ amendments

def _amendments(ctx: _Context) -> list[Problem]:
    problems = list(ctx.amendment_problems)
    for i, amendment in enumerate(ctx.doc.amendments):
        info = _contract_of(ctx, at("amendments", i), amendment.contract, problems)
        if info is not None:
            problems += _fixed_amount_with_schedule(i, amendment, info)
    return problems


def _fixed_amount_with_schedule(i: int, amendment: m.Amendment, info: _ContractInfo) -> list[Problem]:
    """A fixed fee's `amount` and `schedule` are amended together (spec §4)."""
    fixed = {"fixed"} | {t.id for t in info.every_term() if isinstance(t, m.FixedTerm) and t.id}
    fixed |= {t.id for t in amendment.add if isinstance(t, m.FixedTerm) and t.id}
    problems = []
    for key in amendment.set:
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "terms" and parts[1] in fixed \
                and parts[2] in ("amount", "schedule"):
            other = "schedule" if parts[2] == "amount" else "amount"
            if f"terms.{parts[1]}.{other}" not in amendment.set:
                problems.append(Problem(at("amendments", i, "set", key),
                                        f"a fixed fee's amount and schedule change together: "
                                        f"set terms.{parts[1]}.{other} as well"))
    return problems


# ------------------------------------------------ the terms of each contract version

@dataclass(frozen=True)
class _TermIssue:
    term: str        # the term's key (its id, or its kind when it is the only one of it)
    where: str       # inside the term: "schedule[1].date", "percent", "items.steel", or ""
    message: str


def _contract_terms(ctx: _Context) -> list[Problem]:
    """Schedules, milestone amounts, progress items: as written, and as each file amendment leaves them."""
    problems: list[Problem] = []
    for info in ctx.contracts.values():
        written = _version_issues(info.model, info.end)
        if info.index is not None:
            keys = _keys(info.model)
            problems += [Problem(_written_path(info.index, keys, issue), issue.message) for issue in written]
        previous = set(written)
        for day, version in info.versions:
            if version is info.model:
                continue
            issues = _version_issues(version, info.end)
            if day in info.amendments_on:
                problems += [_amended_issue(ctx, info, day, version, issue)
                             for issue in issues if issue not in previous]
            previous = set(issues)
    return problems


def _written_path(j: int, keys: list[str], issue: _TermIssue) -> str:
    if not issue.term:
        return _sub(at("contracts", j), issue.where)
    return _sub(at("contracts", j, "terms", keys.index(issue.term)), issue.where)


def _keys(contract: m.Contract) -> list[str]:
    return term_keys([t.model_dump() for t in contract.terms])


def _amended_issue(ctx: _Context, info: _ContractInfo, day: date, version: m.Contract,
                   issue: _TermIssue) -> Problem:
    term = dict(zip(_keys(version), version.terms, strict=True)).get(issue.term)
    indexes = info.amendments_on[day]
    for i in reversed(indexes):
        path = _amendment_path_of_term(i, ctx.doc.amendments[i], issue, term)
        if path is not None:
            break
    else:
        path = at("amendments", indexes[-1])
    if not issue.term:
        return Problem(path, f"as amended, {issue.where}: {issue.message}")
    where = f" {issue.where}" if issue.where else ""
    return Problem(path, f"as amended, term {issue.term!r}{where}: {issue.message}")


def _amendment_path_of_term(i: int, amendment: m.Amendment, issue: _TermIssue,
                            term: TermModel | None) -> str | None:
    """Where amendment `i` touches the term of `issue`: the `set` key (the one for the field at fault
    if there is one), or the `add` entry; None when it does not touch it."""
    key = issue.term
    field_at_fault = re.split(r"[.\[]", issue.where)[0]
    if not key:       # a contract field
        fields = [name for name in amendment.set if name.split(".")[0] == field_at_fault]
        return at("amendments", i, "set", fields[0]) if fields else None
    names = {key} | ({term.kind} if term is not None else set())
    touching = [name for name in amendment.set
                if len(name.split(".")) > 1 and name.split(".")[0] == "terms" and name.split(".")[1] in names]
    if touching:
        best = next((n for n in touching if n.split(".")[2:3] == [field_at_fault]), touching[0])
        return at("amendments", i, "set", best)
    for n, added in enumerate(amendment.add):
        if added.id == key or (added.id is None and added.kind == key):
            return at("amendments", i, "add", n)
    return None


def _version_issues(contract: m.Contract, end: date | None) -> list[_TermIssue]:
    issues: list[_TermIssue] = []
    if contract.end is not None and contract.end < contract.start:
        issues.append(_TermIssue("", "end", f"{contract.end} is before the contract's start {contract.start}"))
    item_owner: dict[str, str] = {}
    for key, term in zip(_keys(contract), contract.terms, strict=True):
        if isinstance(term, m.FixedTerm):
            issues += _fixed_schedule(key, term, contract.start, end)
        elif isinstance(term, m.MilestoneTerm):
            issues += _milestone_term(key, term, contract)
        elif isinstance(term, m.ProgressTerm):
            issues += _progress_items(key, term, item_owner)
    return issues


def _fixed_schedule(key: str, term: m.FixedTerm, start: date, end: date | None) -> list[_TermIssue]:
    """Each installment: one of amount/percent, dated within the contract; all add up to the fee exactly."""
    issues = []
    for n, installment in enumerate(term.schedule):
        if (installment.amount is None) == (installment.percent is None):
            issues.append(_TermIssue(key, f"schedule[{n}]", "give amount or percent (exactly one)"))
        if installment.date < start or (end is not None and installment.date > end):
            span = f"{start} to {end or 'open'}"
            issues.append(_TermIssue(key, f"schedule[{n}].date",
                                     f"{installment.date} is outside the contract ({span})"))
    if any((i.amount is None) == (i.percent is None) for i in term.schedule):
        return issues
    total = _exact_total(term)
    if total is None:
        issues.append(_TermIssue(key, "schedule", "the installments have too many digits to add up exactly"))
    elif total != term.amount:
        issues.append(_TermIssue(key, "schedule",
                                 f"the installments add up to {_show(total, term.amount)}, not to the fee "
                                 f"{term.amount}; they must add up to it exactly"))
    return issues


def _exact_total(term: m.FixedTerm) -> Decimal | None:
    """sum(amounts) + sum(percent × fee), computed without any rounding (None if that is impossible)."""
    with localcontext(Context(prec=EXACT_DIGITS, traps=[Inexact, InvalidOperation])):
        try:
            return sum((i.amount if i.amount is not None else (i.percent or Decimal(0)) * term.amount
                        for i in term.schedule), Decimal(0))
        except (Inexact, InvalidOperation):
            return None


def _show(value: Decimal, like: Decimal) -> str:
    """`value` without trailing zeros beyond the places `like` shows (exact, never rounded)."""
    shown = value.normalize()
    places, have = like.as_tuple().exponent, shown.as_tuple().exponent
    if isinstance(places, int) and isinstance(have, int) and have > places:
        shown = shown.quantize(Decimal(1).scaleb(places))
    return f"{shown:f}"


def _milestone_term(key: str, term: m.MilestoneTerm, contract: m.Contract) -> list[_TermIssue]:
    if (term.amount is None) == (term.percent is None):
        return [_TermIssue(key, "", "give amount or percent (exactly one)")]
    if term.percent is not None and contract.value is None:
        return [_TermIssue(key, "percent", "a milestone in percent needs the contract's value")]
    return []


def _progress_items(key: str, term: m.ProgressTerm, owner: dict[str, str]) -> list[_TermIssue]:
    """Schedule-of-values item names are unique across the contract's progress terms."""
    issues = []
    for item in term.items:
        if item in owner:
            issues.append(_TermIssue(key, at("items", item),
                                     f"item {item!r} is already in progress term {owner[item]!r}"))
        else:
            owner[item] = key
    return issues


# ------------------------------------------------ time

def _time_entries(ctx: _Context) -> list[Problem]:
    """Role on a rate card in force on the entry's date; overtime only with a multiplier.

    A million entries are first put to a quick yes (`_time_entry_fine`); only those it does not
    clear go through the rules one by one, which say what is wrong and where.
    """
    problems: list[Problem] = []
    fine = _time_entry_fine(ctx)
    for i, entry in enumerate(ctx.doc.time):
        if not fine(entry):
            problems += _time_entry(ctx, i, entry)
    return problems


def _time_entry_fine(ctx: _Context) -> Callable[[m.TimeEntry], bool]:
    """True exactly when `_time_entry` finds nothing wrong: a known contract, the date within it,
    and the role on the first rate card (of the version in force) naming it, with an overtime
    multiplier if the entry is overtime. Precomputed per contract version, so one dict lookup and
    one bisect an entry."""
    cards: dict[str, tuple[date, date | None, list[date], list[dict[str, bool]]]] = {}
    for cid, info in ctx.contracts.items():
        per_version = []
        for _valid_from, version in info.versions:
            overtime_ok: dict[str, bool] = {}
            for term in version.terms:
                if isinstance(term, m.TimeTerm):
                    for role in term.rates:
                        overtime_ok.setdefault(role, term.overtime_multiplier is not None)
            per_version.append(overtime_ok)
        cards[cid] = (info.start, info.end, [d for d, _v in info.versions], per_version)

    def fine(entry: m.TimeEntry) -> bool:
        card = cards.get(entry.contract)
        if card is None:
            return False
        start, end, starts, per_version = card
        day = entry.date
        if day < start or (end is not None and day > end):
            return False
        version = 0 if len(starts) == 1 else max(bisect_right(starts, day) - 1, 0)
        overtime_ok = per_version[version].get(entry.role)
        return overtime_ok is not None and (overtime_ok or not entry.overtime)

    return fine


def _time_entry(ctx: _Context, i: int, entry: m.TimeEntry) -> list[Problem]:
    """The problems of the entry at time[i]."""
    problems: list[Problem] = []
    found = _dated_item(ctx, "time", i, entry.contract, entry.date, "time", problems)
    if found is not None:
        info, version = found
        cards = [t for t in version.terms if isinstance(t, m.TimeTerm)]
        term = next((t for t in cards if entry.role in t.rates), None)
        if term is None:
            roles = ", ".join(sorted({r for t in cards for r in t.rates}))
            problems.append(Problem(at("time", i, "role"),
                                    f"unknown role {entry.role!r}: not on the rate card of contract "
                                    f"{info.id} on {entry.date} (roles: {roles})"))
        elif entry.overtime and term.overtime_multiplier is None:
            problems.append(Problem(at("time", i, "overtime"),
                                    f"the time term of contract {info.id} for role {entry.role!r} on "
                                    f"{entry.date} has no overtime_multiplier"))
    return problems


def _hours_per_day(ctx: _Context) -> list[Problem]:
    """At most 24 hours per person and day, over every contract and what is stored (spec §8).

    Reported once per (person, day), at the entry that takes the day over 24. Entries whose id
    is already stored are counted in the stored hours, so they are not added again.
    """
    stored_ids = ctx.stored_ids("time")
    totals: dict[tuple[str, date], Decimal] = {}
    crossing: dict[tuple[str, date], int] = {}
    for i, entry in enumerate(ctx.doc.time):
        if entry.id is not None and entry.id in stored_ids:
            continue
        day = (entry.person, entry.date)
        totals[day] = totals.get(day, ctx.stored.hours.get(day, Decimal(0))) + entry.hours
        if totals[day] > MAX_HOURS_PER_DAY and day not in crossing:
            crossing[day] = i
    return [Problem(at("time", i, "hours"), f"{person} has {totals[(person, day)]} hours on {day} "
                                            f"(over 24, counting every contract and the time already stored)")
            for (person, day), i in crossing.items()]


# ------------------------------------------------ expenses, resales

def _expenses(ctx: _Context) -> list[Problem]:
    problems: list[Problem] = []
    for i, expense in enumerate(ctx.doc.expenses):
        _dated_item(ctx, "expenses", i, expense.contract, expense.date, "expense", problems)
    return problems


def _resales(ctx: _Context) -> list[Problem]:
    problems: list[Problem] = []
    for i, resale in enumerate(ctx.doc.resales):
        _dated_item(ctx, "resales", i, resale.contract, resale.date, "resale", problems)
    return problems


# ------------------------------------------------ milestones

def _milestone_events(ctx: _Context) -> list[Problem]:
    """A known milestone of the contract; completed and/or accepted, never before the start."""
    problems: list[Problem] = []
    for i, event in enumerate(ctx.doc.milestones):
        path = at("milestones", i)
        if event.completed is None and event.accepted is None:
            problems.append(Problem(path, "needs a completed or an accepted date (or both)"))
        info = _contract_of(ctx, path, event.contract, problems)
        if info is None:
            continue
        known = sorted({t.id for t in info.every_term() if isinstance(t, m.MilestoneTerm)})
        if event.milestone not in known:
            problems.append(Problem(_sub(path, "milestone"),
                                    f"unknown milestone {event.milestone!r} of contract {info.id} "
                                    f"(milestones: {', '.join(known)})"))
        for name, day in (("completed", event.completed), ("accepted", event.accepted)):
            if day is not None:
                _not_before_start(info, _sub(path, name), day, problems)
    return problems


# ------------------------------------------------ progress

@dataclass(frozen=True)
class _Report:
    day: date
    percent: Decimal
    index: int | None        # position in the file's progress list; None when stored


def _progress_reports(ctx: _Context) -> list[Problem]:
    """Item in a progress term in force on the report date; one report per date; never going down."""
    problems: list[Problem] = []
    series: dict[tuple[str, str], list[_Report]] = {}
    for i, report in enumerate(ctx.doc.progress):
        if report.contract in ctx.contracts:
            key = (report.contract, report.item)
            series.setdefault(key, []).append(_Report(report.date, report.percent, i))
        found = _dated_item(ctx, "progress", i, report.contract, report.date, "progress", problems)
        if found is None:
            continue
        info, version = found
        items = sorted({item for t in version.terms if isinstance(t, m.ProgressTerm) for item in t.items})
        if report.item not in items:
            problems.append(Problem(at("progress", i, "item"),
                                    f"unknown item {report.item!r}: not in a progress term of contract "
                                    f"{info.id} on {report.date} (items: {', '.join(items)})"))
    for (contract_id, item), reports in series.items():
        stored = _stored_reports(ctx, contract_id, item, reports)
        problems += _progress_series(contract_id, item, stored, reports)
    return problems


def _stored_reports(ctx: _Context, contract_id: str, item: str, reports: list[_Report]) -> list[_Report]:
    """The stored reports; with upsert, a re-imported report (its id stored) replaces the one of its date."""
    replaced = set()
    if ctx.upsert:
        stored_ids = ctx.stored_ids("progress")
        replaced = {r.day for r in reports
                    if r.index is not None and ctx.doc.progress[r.index].id in stored_ids}
    stored = ctx.stored.progress.get((contract_id, item), [])
    return [_Report(d, p, None) for d, p in stored if d not in replaced]


def _progress_series(contract_id: str, item: str, stored: list[_Report],
                     reports: list[_Report]) -> list[Problem]:
    problems = []
    seen: dict[date, _Report] = {r.day: r for r in stored}
    kept = list(stored)
    for report in reports:
        other = seen.get(report.day)
        if other is not None:
            also = "already stored" if other.index is None else f"also {at('progress', other.index)}"
            problems.append(Problem(_file_path(report, "date"),
                                    f"a second report for item {item!r} of contract {contract_id} on "
                                    f"{report.day} ({also})"))
            continue
        seen[report.day] = report
        kept.append(report)
    return problems + _progress_going_down(kept)


def _file_path(report: _Report, name: str) -> str:
    return at("progress", report.index, name) if report.index is not None else ""


def _progress_going_down(reports: list[_Report]) -> list[Problem]:
    """Cumulative percents never go down over dates (stored reports included)."""
    problems: list[Problem] = []
    blamed: set[int] = set()
    highest: _Report | None = None
    for report in sorted(reports, key=lambda r: r.day):
        if highest is not None and report.percent < highest.percent:
            if report.index is not None and report.index not in blamed:
                source = "stored" if highest.index is None else f"progress[{highest.index}]"
                problems.append(Problem(at("progress", report.index, "percent"),
                                        f"percent goes down: {report.percent} after {highest.percent} on "
                                        f"{highest.day} ({source})"))
                blamed.add(report.index)
            elif report.index is None and highest.index is not None and highest.index not in blamed:
                problems.append(Problem(at("progress", highest.index, "percent"),
                                        f"percent goes down: {highest.percent} is above the "
                                        f"{report.percent} already stored for {report.day}"))
                blamed.add(highest.index)
        if highest is None or report.percent > highest.percent:
            highest = report
    return problems


# ------------------------------------------------ retainage releases, payments, budgets

def _retainage_releases(ctx: _Context) -> list[Problem]:
    problems: list[Problem] = []
    for i, release in enumerate(ctx.doc.retainage_releases):
        path = at("retainage_releases", i)
        if release.percent is not None and release.amount is not None:
            problems.append(Problem(path, "give percent or amount, not both (neither: all that is held)"))
        info = _contract_of(ctx, path, release.contract, problems)
        if info is not None:
            _not_before_start(info, _sub(path, "date"), release.date, problems)
    return problems


def _payments(ctx: _Context) -> list[Problem]:
    problems: list[Problem] = []
    for i, payment in enumerate(ctx.doc.payments):
        if payment.client not in ctx.clients:
            problems.append(Problem(at("payments", i, "client"), f"unknown client {payment.client!r}"))
        if payment.invoice is None:
            if payment.currency is None:
                problems.append(Problem(at("payments", i, "currency"),
                                        "required when the payment names no invoice"))
        elif payment.invoice not in ctx.stored.invoice_numbers:
            problems.append(Problem(at("payments", i, "invoice"),
                                    f"unknown invoice {payment.invoice!r}: no issued invoice has "
                                    f"that number"))
    return problems


def _budgets(ctx: _Context) -> list[Problem]:
    problems: list[Problem] = []
    for i, budget in enumerate(ctx.doc.budgets):
        _contract_of(ctx, at("budgets", i), budget.contract, problems)
    return problems


_RULES: tuple[Callable[[_Context], list[Problem]], ...] = (
    _duplicate_ids,
    _currencies,
    _series,
    _client_references,
    _amendments,
    _contract_terms,
    _time_entries,
    _hours_per_day,
    _expenses,
    _resales,
    _milestone_events,
    _progress_reports,
    _retainage_releases,
    _payments,
    _budgets,
)

__all__ = ["EVENT_LISTS", "Problem", "StoredState", "at", "validate", "validate_rules", "validate_shape"]
