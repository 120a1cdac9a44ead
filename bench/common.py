"""What every benchmark shares: a scratch database, peak memory, and figures printed as JSON and as a table.

Each benchmark prints its figures twice, in one place: a Rich table for a person, and (with `--json`)
one JSON object on stdout and nothing else, for scripts and docs/performance.md.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from billpact.db.session import normalize_url

ROOT = Path(__file__).resolve().parents[1]
SIZES: dict[str, tuple[int, int]] = {  # size: (contracts, time entries), as issue 8 defines them
    "XS": (200, 20_000), "S": (1_000, 100_000), "M": (10_000, 1_000_000), "L": (100_000, 10_000_000),
}


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """A fresh, empty database: a temporary SQLite file, or a dedicated PostgreSQL schema dropped afterwards."""
    if url is None or url == "sqlite":
        with tempfile.TemporaryDirectory(prefix="billpact-bench-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    if not normalize_url(url).startswith("postgresql"):
        yield url  # another SQLite file (or database) the caller owns: it must be empty
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield in_schema(url, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def in_schema(url: str, schema: str) -> str:
    """The PostgreSQL URL whose connections work in `schema` (search_path set at connect)."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def child_env() -> dict[str, str]:
    """The environment for a child `python -m bench....` process: the repository on its path."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def run_child(*args: str, quiet: bool = False) -> str:
    """`python -m ARGS` in a child process (its memory stays out of this process's peak RSS); its stdout."""
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=child_env(), check=True, text=True,
                          stdout=subprocess.PIPE)
    if not quiet:
        print(done.stdout.strip(), file=sys.stderr)
    return done.stdout


def emit(title: str, figures: Mapping[str, Any], as_json: bool) -> None:
    """Print the figures: one JSON object (--json), or a two-column table."""
    if as_json:
        print(json.dumps(dict(figures), default=str))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in figures.items():
        shown = (str(value) if isinstance(value, bool) else f"{value:,.3f}" if isinstance(value, float)
                 else f"{value:,}" if isinstance(value, int) else str(value))
        table.add_row(name.replace("_", " "), shown)
    Console().print(table)
