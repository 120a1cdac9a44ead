"""Crash safety under kill -9 (issue 9), the CI version: a few kills per operation and backend.

Each trial is `tests.reliability.crash.trial`: a fresh database in the operation's starting state, the
command forked and SIGKILLed at a random point of its run, then all-or-nothing, `billpact check`, the
rerun, equality with the uninterrupted run, `check` and `audit verify`. The data is tiny so the whole
file stays well under a minute; BILLPACT_CRASH_TRIALS (default 3) sets the kills per operation and
backend. The long version (20+ trials, bigger data, the real `billpact` executable) is the command

    .venv/bin/python -m tests.reliability.crash --trials 20 --db sqlite --db postgresql --launch exec

(figures in docs/reliability.md, "Crash safety").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, pg_base_url
from tests.reliability.crash import (
    OPERATIONS,
    Backend,
    PostgresBackend,
    Sizes,
    killed_lock_holder,
    run_series,
    write_import_file,
)

TRIALS = int(os.environ.get("BILLPACT_CRASH_TRIALS", "3"))
SIZES = Sizes(contracts=4, entries=200)   # 4 contracts: 44 invoices over the year
SEED = 2026


@pytest.fixture(scope="module")
def sqlite_backend(tmp_path_factory: pytest.TempPathFactory) -> Backend:
    """SQLite files; one template per operation for the whole module, copied for each database."""
    return Backend(tmp_path_factory.mktemp("crash-sqlite"), "fork")


@pytest.fixture(scope="module")
def postgresql_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresBackend]:
    """A PostgreSQL schema per database, cloned from one template schema per operation."""
    base = pg_base_url()
    if not base:
        pytest.skip("set BILLPACT_TEST_PG_URL to run the PostgreSQL variant")
    pg = PostgresBackend(tmp_path_factory.mktemp("crash-pg"), "fork", base)
    yield pg
    pg.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    found: Backend = request.getfixturevalue(f"{request.param}_backend")
    return found


@pytest.fixture(scope="module")
def import_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_import_file(tmp_path_factory.mktemp("crash") / "import.json", SIZES)


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_a_killed_operation_leaves_all_or_nothing_and_a_rerun_finishes_it(
        backend: Backend, operation: str, import_file: Path) -> None:
    series = run_series(backend, OPERATIONS[operation], SIZES, import_file, TRIALS, SEED, startup=0.0, late=0.5)
    assert len(series.trials) == TRIALS
    for t in series.trials:
        assert t.problems == [], t
        assert t.landed in ("before-commit", "after-commit", "finished"), t
        assert t.check_after_kill and t.equal_after_rerun and t.check_after_rerun and t.audit_intact, t
        assert t.invoices_after_kill in (0, series.reference.invoices), t
    if operation != "import":
        assert series.reference.invoices > 0
        assert series.reference.again == series.reference.after  # billing twice creates nothing


def test_a_killed_lock_holder_never_blocks_the_next_run(backend: Backend) -> None:
    """The killed process held the billing lock (SQLite: the write lock; PostgreSQL: the advisory lock in
    an open transaction): `billpact bill` started at once still runs to completion."""
    seconds, code = killed_lock_holder(backend, SIZES)
    assert code == 0
    assert seconds < 30


def test_a_lock_holder_killed_inside_a_statement_delays_the_next_run_only_by_that_statement(
        postgresql_backend: PostgresBackend) -> None:
    """PostgreSQL only notices the dead client when the running statement ends: the lock is released then."""
    seconds, code = killed_lock_holder(postgresql_backend, SIZES, busy=2.0)
    assert code == 0
    assert seconds < 2.0 + 30
