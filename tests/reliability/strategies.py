"""Hypothesis strategies for hostile and broken import documents.

`broken_documents()` draws mostly almost-valid documents: a valid base (an acceptance example, or
the small document of tests/importing/bad_documents.py) with a few mutations applied at random
places — keys dropped, added or retyped, list items duplicated or dropped, numbers out of range,
impossible dates, unknown references, huge strings, unicode and control characters, nested garbage.
Some draws get no mutation, or only harmless ones, so the importer's "yes" path is exercised too.

The documents are plain data as `load_file` gives it (dicts, lists, str, int, Decimal, date, bool,
None, float); `as_json` writes one out for the command line.
"""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from billpact.importing.loading import load_file
from tests.importing.bad_documents import doc, entry

EXAMPLES = Path("/work/shared/spec/examples")

Path_ = tuple[str | int, ...]

# Text a hostile file may carry: markup, SQL, formulas, control characters, bidi overrides, emoji.
HOSTILE_TEXT = (
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "' OR 1=1 --", "Robert'); DROP TABLE client;--",
    "=cmd|' /C calc'!A0", "+SUM(1,2)", "@x", "\x00", "\x1b[31mred", "a\rb\nc\td", "\u202egnp.exe", "\ufeff",
    "\U0001f4a9" * 3, "Z\u0351\u0366\u0364", "\ud7ff", "${jndi:ldap://x}", "{0.__class__}", "%s%n", "&amp;&",
)
BAD_DATES = ("2026-13-01", "2026-02-30", "2026-00-10", "0000-01-01", "26-1-1", "yesterday", "2026/01/12",
             "2026-01-12T25:00:00", "")
BAD_NUMBERS = ("NaN", "Infinity", "-Infinity", "1e9999", "-1", "0", "0x10", "1,5", "١٢", "1_000", " 7 ", "--1",
               "0.1234567890123456789", "99999999999999999999999999999")
FIELD_NAMES = ("id", "client", "contract", "date", "start", "end", "hours", "amount", "rates", "terms", "kind",
               "person", "role", "currency", "tax_rate", "markup", "cycle", "overtime", "billable", "percent",
               "clients", "contracts", "time", "expenses", "payments", "amendments", "organization")


@cache
def base_documents() -> tuple[dict[str, Any], ...]:
    """Valid documents to mutate: every acceptance example and the small bad_documents base."""
    bases = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        if path.name.endswith(".expected.yaml"):
            continue
        data, problems = load_file(path)
        assert not problems, problems
        bases.append(data)
    bases.append(doc(time=[entry(), entry(date="2026-01-13", hours="2.5", note="site visit")]))
    return tuple(bases)


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for i in range(depth):
        value = [value] if i % 2 else {"x": value}
    return value


def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(), st.booleans(),
        st.sampled_from([0, -1, 1, 10**30, -(10**30), 2**63, 7]),
        st.sampled_from([float("inf"), float("-inf"), float("nan"), 1e308, -0.0, 0.1]),
        st.sampled_from([Decimal("-0.01"), Decimal("1E+400"), Decimal("1E-30"), Decimal("0"), Decimal("1e6"),
                         Decimal("123456789012345678901234567890.123456789")]),
        st.sampled_from(BAD_DATES), st.sampled_from(BAD_NUMBERS), st.sampled_from(HOSTILE_TEXT),
        st.sampled_from([date(1, 1, 1), date(9999, 12, 31), date(2026, 2, 28), date(1999, 12, 31)]),
        st.sampled_from(["C-404", "NOPE", "ACME", "C-1", "engineer", "monthly", "USD", "XXX", "time", "fixed"]),
        st.text(max_size=12),
        st.integers(1, 3).map(lambda n: "x" * (10 ** (n + 2))),      # 1 kB .. 100 kB of one letter
    )


def garbage() -> st.SearchStrategy[Any]:
    """Any value a broken file could hold where another was expected, nested garbage included."""
    return st.one_of(
        scalars(),
        st.lists(scalars(), max_size=3),
        st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=6), scalars(), max_size=3),
        st.integers(20, 200).map(_deep),
        st.just([]), st.just({}),
    )


def _paths(value: Any, here: Path_ = ()) -> list[Path_]:
    out = [here]
    if isinstance(value, dict):
        for key, child in value.items():
            out.extend(_paths(child, (*here, key)))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out.extend(_paths(child, (*here, i)))
    return out


def _get(root: Any, path: Path_) -> Any:
    for part in path:
        root = root[part]
    return root


def _retyped(value: Any) -> Any:
    """The same information in the wrong type."""
    if isinstance(value, bool):
        return "yes" if value else 0
    if isinstance(value, Decimal | int | float):
        return [str(value)] if isinstance(value, int) else str(value) + " USD"
    if isinstance(value, date):
        return value.isoformat().replace("-", "")
    if isinstance(value, str):
        return {"value": value}
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return "null"


def _nudged(draw: st.DrawFn, value: Any) -> Any:
    """Numbers out of range and dates out of the contract: a near miss of the same type."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, Decimal | int):
        return draw(st.sampled_from([-value, value * 10**9, Decimal(value) + Decimal("0.00001"), 0,
                                     Decimal(value) * 100, Decimal(value) - Decimal(10**6)]))
    if isinstance(value, date):
        shift = draw(st.sampled_from([-400, -40, -1, 1, 31, 365, 4000]))
        try:
            return value + timedelta(days=shift)
        except OverflowError:
            return value
    if isinstance(value, str):
        return draw(st.sampled_from([value + "-404", value.upper() + "\u0000", "", value * 3, f" {value} "]))
    return value


def _mutate(draw: st.DrawFn, document: dict[str, Any]) -> None:
    paths = _paths(document)
    path = paths[draw(st.integers(0, len(paths) - 1))]
    kind = draw(st.sampled_from(["drop", "garbage", "unknown_key", "duplicate", "retype", "nudge", "hostile",
                                 "nudge", "drop"]))
    if not path:                       # the top level itself
        if kind == "drop":
            document.clear()
        else:
            document[draw(st.sampled_from(FIELD_NAMES) | st.text(max_size=8))] = draw(garbage())
        return
    parent, key = _get(document, path[:-1]), path[-1]
    value = parent[key]
    if kind == "drop":
        del parent[key]
    elif kind == "garbage":
        parent[key] = draw(garbage())
    elif kind == "unknown_key":
        if isinstance(value, dict):
            value[draw(st.sampled_from(FIELD_NAMES) | st.text(min_size=1, max_size=8))] = draw(garbage())
        else:
            parent[key] = draw(garbage())
    elif kind == "duplicate":
        if isinstance(parent, list):
            parent.insert(key, copy.deepcopy(value))  # type: ignore[arg-type]
        elif isinstance(value, list) and value:
            value.append(copy.deepcopy(value[-1]))
    elif kind == "retype":
        parent[key] = _retyped(value)
    elif kind == "nudge":
        parent[key] = _nudged(draw, value)
    elif kind == "hostile" and isinstance(value, str):
        parent[key] = value + draw(st.sampled_from(HOSTILE_TEXT))


@st.composite
def broken_documents(draw: st.DrawFn, max_mutations: int = 4) -> Any:
    """A base document with 0..max_mutations mutations (most draws have at least one)."""
    document = copy.deepcopy(draw(st.sampled_from(base_documents())))
    count = draw(st.sampled_from([0, 1, 1, 1, 2, 2, 3, max_mutations]))
    for _ in range(count):
        _mutate(draw, document)
    if draw(st.integers(0, 49)) == 0:        # now and then, not a mapping at all
        return draw(st.sampled_from([[document], "clients: []", 42, None]))
    return document


def as_json(document: Any) -> str:
    """The document as the JSON text of an import file (dates and decimals written as text)."""
    return json.dumps(document, default=_plain, ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value))

