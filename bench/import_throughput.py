"""Import throughput: the real `billpact import FILE` of a JSON file with N time entries.

Writes an import file — the organization, N/100 clients' worth of T&M contracts from
`bench.generate.plan` (rate cards, amendments, caps) and N time entries from `bench.generate.time_rows`
(valid: roles on the rate card, ≤ 24 h per person and day, overtime only with a multiplier) — into a
fresh database's directory, migrates an empty database, and times `billpact import FILE --json` in a
child process: wall time (process start, parsing, validation, load and commit), entries/s, and the
child's peak RSS (`getrusage(RUSAGE_CHILDREN)`, the only child this process waits for). Writing the
file and migrating the database are not timed. Target (issue 8): 1M entries in under 60 s on SQLite
and on PostgreSQL.

    python -m bench.import_throughput --entries 100000                  # SQLite, temporary file
    python -m bench.import_throughput --entries 1000000 --db postgresql://postgres@127.0.0.1:5432/test --json
    python -m bench.import_throughput --entries 1000000 --profile import.prof   # cProfile of the child
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from bench.common import ROOT, child_env, database, emit
from bench.generate import Plan, plan, time_rows
from billpact.db.migrate import upgrade
from billpact.db.session import make_engine

ENTRIES_PER_CONTRACT = 100        # as bench.common.SIZES: S is 1k contracts for 100k entries


def header(p: Plan) -> dict[str, Any]:
    """Everything but the time entries: organization, clients, contracts and their amendments."""
    contracts, amendments = [], []
    for c in p.contracts:
        contracts.append(c.written(p.clients[c.client]).model_dump(mode="json", exclude_none=True))
        amendment = c.amendment()
        if amendment is not None:
            amendments.append(amendment.model_dump(mode="json", exclude_none=True))
    return {"organization": {"name": "Bench Engineering Ltd"},
            "clients": [c.model_dump(mode="json", exclude_none=True) for c in p.clients],
            "contracts": contracts, "amendments": amendments}


def entries(p: Plan) -> Iterator[dict[str, Any]]:
    """The plan's time entries as the file writes them (hours as JSON numbers, the note only when there is one)."""
    codes = [c.code for c in p.contracts]
    for row in time_rows(p):
        entry: dict[str, Any] = {"id": row["ext_id"], "contract": codes[row["contract_pk"]],
                                 "date": row["date"].isoformat(), "person": row["person"], "role": row["role"],
                                 "hours": row["hours"], "overtime": row["overtime"]}
        if row["note"] is not None:
            entry["note"] = row["note"]
        yield entry


def write_file(out: TextIO, p: Plan) -> int:
    """One JSON object; the entries streamed one per line, so a million never sit in memory as text."""
    head = json.dumps(header(p))
    out.write(head[:-1] + ',\n"time": [\n')
    count = 0
    for entry in entries(p):
        hours = entry.pop("hours")  # a Decimal: written as the JSON number it is, never through a float
        out.write((",\n" if count else "") + json.dumps(entry)[:-1] + f', "hours": {hours}}}')
        count += 1
    out.write("\n]}\n")
    return count


def billpact_command() -> list[str]:
    """The installed `billpact` script, run by this interpreter (so cProfile can wrap it)."""
    script = Path(sys.executable).parent / "billpact"
    found = script if script.exists() else shutil.which("billpact")
    if found is None:
        raise SystemExit("the billpact command is not installed (pip install -e .)")
    return [sys.executable, str(found)]


def timed_import(url: str, file: Path, profile: str | None) -> tuple[float, float, float, dict[str, Any]]:
    """Wall seconds, CPU seconds, peak RSS (MB) and the JSON summary of `billpact import FILE` in a
    child process. CPU time is the child's own (user + system): on a shared machine the wall time
    also counts the time other processes held the cores."""
    command = billpact_command()
    if profile:
        command = [command[0], "-m", "cProfile", "-o", profile, *command[1:]]
    began = time.perf_counter()
    done = subprocess.run([*command, "import", str(file), "--json", "--db", url], cwd=ROOT, env=child_env(),
                          text=True, capture_output=True)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"billpact import failed ({done.returncode}):\n{done.stdout[-4000:]}{done.stderr[-4000:]}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = usage.ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else usage.ru_maxrss / 1024
    return wall, usage.ru_utime + usage.ru_stime, peak, json.loads(done.stdout)


def measure(db: str | None, entries_count: int, contracts: int, seed: int, profile: str | None = None,
            keep: Path | None = None) -> dict[str, Any]:
    """Write the file (or reuse `keep`, written by the same arguments), migrate a fresh database,
    time the import; the figures."""
    p = plan(contracts, entries_count, seed)
    with tempfile.TemporaryDirectory(prefix="billpact-import-") as tmp, database(db) as url:
        file = keep or Path(tmp) / "import.json"
        writing = None  # the file was kept from an earlier run
        if keep is None or not keep.exists():
            began = time.perf_counter()
            with file.open("w", encoding="utf-8") as out:
                write_file(out, p)
            writing = round(time.perf_counter() - began, 2)
        written = p.entries
        engine = make_engine(url)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        wall, cpu, peak, summary = timed_import(url, file, profile)
        size_mb = file.stat().st_size / 1e6
    imported = summary["imported"]
    if imported.get("time") != written:
        raise SystemExit(f"imported {imported.get('time')} time entries, not {written}")
    return {"database": "postgresql" if url.startswith("postgres") else "sqlite", "contracts": len(p.contracts),
            "amendments": imported.get("amendments", 0), "entries": written, "file_mb": round(size_mb, 1),
            "file_written_seconds": writing, "import_seconds": round(wall, 2),
            "import_cpu_seconds": round(cpu, 2),
            "entries_per_s": round(written / wall, 1), "peak_rss_mb": round(peak, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--contracts", type=int, default=None,
                        help=f"default: entries / {ENTRIES_PER_CONTRACT}, as the S/M/L sizes")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--db", default=None, help="sqlite (default: a temporary file) or a PostgreSQL URL "
                                                   "(a throwaway schema in it)")
    parser.add_argument("--profile", default=None, help="write a cProfile of the import (the child) to FILE")
    parser.add_argument("--file", type=Path, default=None,
                        help="keep the import file here, and reuse it when it exists (same arguments!)")
    parser.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    args = parser.parse_args(argv)
    contracts = args.contracts or max(1, args.entries // ENTRIES_PER_CONTRACT)
    figures = measure(args.db, args.entries, contracts, args.seed, args.profile, args.file)
    emit("billpact import throughput", figures, args.json)


if __name__ == "__main__":
    main()
