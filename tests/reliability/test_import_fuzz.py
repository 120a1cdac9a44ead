"""Fuzzing the importer: for every generated document, it imports, or it is refused with
`InvalidInput` (≥ 1 problem, each a non-empty "path: message") and the database is as before.

Figures per CI run: FUZZ_DOCUMENTS documents (10,000 by default) are split between the in-memory
validation layer (most of them) and the full `import_document` on one SQLite database (a SAVEPOINT
rolled back after each example). A nightly-style run raises the count:

    BILLPACT_FUZZ_DOCUMENTS=200000 .venv/bin/pytest tests/reliability/test_import_fuzz.py
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from billpact.db.session import make_engine
from billpact.errors import InvalidInput
from billpact.importing.loading import MAX_ALIAS_NODES, MAX_BYTES, load_text
from billpact.importing.service import import_document
from billpact.importing.validate import StoredState, validate
from tests.reliability.strategies import as_json, base_documents, broken_documents
from tests.support import run

FUZZ_DOCUMENTS = int(os.environ.get("BILLPACT_FUZZ_DOCUMENTS", "10000"))
FULL_SHARE = 5                       # one document in FULL_SHARE goes through the full import
FULL_IMPORTS = max(FUZZ_DOCUMENTS // FULL_SHARE, 1)
IN_MEMORY = max(FUZZ_DOCUMENTS - FULL_IMPORTS, 1)
CLI_DOCUMENTS = 40

def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None, derandomize=False, print_blob=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                          HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much,
                                          HealthCheck.large_base_example])



def _assert_problems(problems: list[str]) -> None:
    assert problems, "refused without a problem"
    for problem in problems:
        assert isinstance(problem, str) and problem.strip(), problems


# ---------------------------------------------------------------- the validation layer, in memory


@fuzz(IN_MEMORY)
@given(broken_documents())
def test_validation_never_crashes(raw: Any) -> None:
    """`validate` never raises: a typed document and no problem, or problems each with a message."""
    doc, problems = validate(raw, StoredState())
    if problems:
        for p in problems:
            assert isinstance(p.path, str) and p.message.strip(), p
    else:
        assert doc is not None


@fuzz(max(FUZZ_DOCUMENTS // 20, 1))
@given(broken_documents())
def test_written_file_loads_or_is_refused(raw: Any) -> None:
    """The document written out as JSON text and read back by the loader gives data or problems."""
    data, problems = load_text(as_json(raw), "fuzz.json")
    if problems:
        _assert_problems([str(p) for p in problems])
    else:
        assert isinstance(data, dict)
        validate(data, StoredState())


# ---------------------------------------------------------------- the full import, one database


@pytest.fixture
def session(sqlite_template: Path, tmp_path: Path) -> Iterator[Session]:
    """One SQLite database for all the examples of a test; each example runs in a SAVEPOINT."""
    path = tmp_path / "fuzz.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as s, s.begin():
        yield s
        s.rollback()
    engine.dispose()


def _table_counts(session: Session) -> tuple[Any, ...]:
    """Rows of every table (audit_head by content): one query."""
    tables = session.info.get("fuzz_tables")
    if tables is None:
        tables = sorted(t for t in inspect(session.connection()).get_table_names()
                        if t not in ("alembic_version", "audit_head"))
        session.info["fuzz_tables"] = tables
    counts = ", ".join(f'(SELECT count(*) FROM "{t}")' for t in tables)
    row = session.execute(text(f"SELECT {counts}, (SELECT count || last_hash FROM audit_head)")).one()
    return tuple(zip([*tables, "audit_head"], row, strict=True))


class Outcome:
    imported = 0
    refused = 0


@fuzz(FULL_IMPORTS)
@given(raw=broken_documents())
def test_import_loads_everything_or_nothing(session: Session, raw: Any) -> None:
    savepoint = session.begin_nested()
    try:
        before = _table_counts(session)
        try:
            summary = import_document(session, raw)
        except InvalidInput as exc:
            Outcome.refused += 1
            _assert_problems(exc.problems)
            assert _table_counts(session) == before, "a refused import left rows behind"
            assert not session.new, "a refused import left objects pending"
        else:
            Outcome.imported += 1
            assert summary.counts
            assert _table_counts(session) != before
    finally:
        savepoint.rollback()


def test_fuzz_reached_both_outcomes() -> None:
    """The generator is not degenerate: the full-import property above saw both outcomes (when run)."""
    if Outcome.imported + Outcome.refused == 0:
        pytest.skip("run with test_import_loads_everything_or_nothing")
    print(f"full imports: {Outcome.imported} imported, {Outcome.refused} refused")
    assert Outcome.refused > Outcome.imported > 0 or FULL_IMPORTS < 50, (Outcome.imported, Outcome.refused)


def test_every_base_document_imports(session: Session) -> None:
    for raw in base_documents():
        savepoint = session.begin_nested()
        assert import_document(session, raw).counts
        savepoint.rollback()


# ---------------------------------------------------------------- through the command line


@pytest.fixture
def cli_db(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "cli.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def _cli(db: str, file: Path) -> Any:
    from typer.testing import CliRunner

    from billpact.cli.app import app
    return CliRunner().invoke(app, ["import", str(file), "--db", db])


@fuzz(CLI_DOCUMENTS)
@given(raw=broken_documents(), as_yaml=st.booleans())
def test_cli_refuses_with_a_message_never_a_traceback(cli_db: str, tmp_path: Path, raw: Any,
                                                       as_yaml: bool) -> None:
    file = tmp_path / ("doc.yaml" if as_yaml else "doc.json")
    body = as_json(raw)
    file.write_text(body if not as_yaml else f"# fuzzed\n{body}\n", encoding="utf-8")
    result = _cli(cli_db, file)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1), (result.exit_code, result.output)
    if result.exit_code == 1:
        assert "problem" in result.output and "nothing was changed" in result.output, result.output
    if result.exit_code == 0:
        # Loaded for real (committed): start the next example from an empty database again.
        assert "imported" in result.output
        _reset(cli_db)


def _reset(db: str) -> None:
    from billpact.db.migrate import upgrade
    Path(db.removeprefix("sqlite:///")).unlink()
    engine = make_engine(db)
    upgrade(engine)
    engine.dispose()


# ---------------------------------------------------------------- the loader's limits, through `billpact import`


def _rows(db: str) -> int:
    engine = make_engine(db)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT (SELECT count(*) FROM client) + (SELECT count(*) FROM contract)")).scalar_one()
    engine.dispose()
    return int(n)


def test_yaml_bomb_is_refused(cli_db: str, tmp_path: Path) -> None:
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(levels) + "\nclients: *a9\n")
    result = run(cli_db, "import", str(bomb), code=1)
    assert f"aliases expand to more than {MAX_ALIAS_NODES} values" in result.output
    assert "Traceback" not in result.output and _rows(cli_db) == 0


def test_many_aliases_are_refused(cli_db: str, tmp_path: Path) -> None:
    file = tmp_path / "aliases.yaml"
    file.write_text("x: &x 1\nclients: [" + ", ".join(["*x"] * 1500) + "]\n")
    result = run(cli_db, "import", str(file), code=1)
    assert "more than 1000 alias references" in result.output


def test_recursive_alias_is_refused(cli_db: str, tmp_path: Path) -> None:
    file = tmp_path / "loop.yaml"
    file.write_text("clients: &c [*c]\n")
    result = run(cli_db, "import", str(file), code=1)
    assert "Traceback" not in result.output and "problem" in result.output


def test_oversized_file_is_refused_before_parsing(cli_db: str, tmp_path: Path) -> None:
    """A sparse file one byte over the limit: refused from its size, never read."""
    file = tmp_path / "big.yaml"
    with file.open("wb") as f:
        f.write(b"clients: []\n#")
        f.truncate(MAX_BYTES + 1)
    result = run(cli_db, "import", str(file), code=1)
    assert f"is larger than {MAX_BYTES // (1024 * 1024)} MiB; split it into several imports" in result.output
    assert _rows(cli_db) == 0


def test_deeply_nested_file_is_refused(cli_db: str, tmp_path: Path) -> None:
    file = tmp_path / "deep.json"
    file.write_text('{"clients": ' + "[" * 100_000 + "]" * 100_000 + "}")
    result = run(cli_db, "import", str(file), code=1)
    assert "Traceback" not in result.output and "problem" in result.output


def test_duplicate_keys_and_binary_are_refused(cli_db: str, tmp_path: Path) -> None:
    dup = tmp_path / "dup.yaml"
    dup.write_text("time: []\nclients: []\ntime: []\n")
    assert "duplicate key 'time'" in run(cli_db, "import", str(dup), code=1).output
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"clients:\n  - \xff\xfe\x00garbage\n")
    assert "is not UTF-8 text" in run(cli_db, "import", str(binary), code=1).output
