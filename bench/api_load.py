"""Load test of the REST API's invoice list and detail over N invoices (issue 8).

Builds (in a child process) a database of N issued invoices with `bench.invoice_volume`, starts the real
server — `billpact serve --workers W` (uvicorn on loopback) in a subprocess — and drives it from THIS
process at a fixed request rate, open loop: request i is sent at start + i / rate whether or not the earlier
ones have answered, and its latency is measured from that scheduled moment (a server that falls behind
shows it in the latency instead of slowing the sender down: no coordinated omission). The requests cycle
through three kinds:

- `list`: `GET /api/v1/invoices?limit=P` — the first page of every invoice (the total counted);
- `filtered`: `GET /api/v1/invoices?client=C&status=issued&limit=P` — a random client's first page;
- `detail`: `GET /api/v1/invoices/NUMBER` — a random issued invoice.

The server runs without the reminder scheduler (`BILLPACT_REMIND_SCHEDULER=0`, see `server_env`).
Workers: 2 by default, one per core of the 2-core machine this ran on — a sync FastAPI route holds its
process's GIL while it renders JSON, so one process uses one core at most; more processes than cores only
add context switches (and this process, the load, needs some CPU too). The client is httpx2's AsyncClient
(already a dev dependency for the TestClient): no new dependency. Target: p99 < 100 ms at 200 requests/s.

    python -m bench.api_load --invoices 20000 --rate 50 --seconds 10            # SQLite, a temporary file
    python -m bench.api_load --invoices 1000000 --db sqlite:////tmp/big.db --reuse --rate 200 --seconds 30
    python -m bench.api_load --invoices 1000000 --db postgresql://postgres@127.0.0.1:5432/test --json
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psutil
from sqlalchemy import func, select

from bench.common import emit, peak_rss_mb
from bench.reports import add_volume_options, build, volume_database
from billpact.clients.models import Client
from billpact.db.session import make_engine, transaction
from billpact.invoices.models import Invoice
from billpact.users import service as users
from billpact.users.models import User

KINDS = ("list", "filtered", "detail")
SAMPLE = 2000          # invoice numbers and clients to pick from at random
TIMEOUT_S = 30.0
GRACE_S = 10.0


@dataclass
class Targets:
    """What the requests name: a token, random issued invoices' numbers, random clients' codes."""

    token: str
    numbers: list[str]
    clients: list[str]


@dataclass
class Samples:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    errors: dict[str, int] = field(default_factory=dict)
    bytes_in: int = 0
    server_cpu_s: list[float] = field(default_factory=list)   # CPU-seconds of each server process, busiest first


def targets(url: str, seed: int) -> Targets:
    """A fresh viewer token (user `bench-viewer`, made once) and random invoices and clients to ask for."""
    rng = random.Random(seed)
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            if session.scalar(select(User.pk).where(User.username == "bench-viewer")) is None:
                users.add_user(session, "bench-viewer", secrets.token_urlsafe(16), "viewer", None)
            token = users.create_token(session, "bench-viewer", "api-load")[1]
        with engine.connect() as conn:
            top = conn.scalar(select(func.max(Invoice.pk))) or 0
            picks = sorted({rng.randint(1, top) for _ in range(SAMPLE * 2)})
            numbers = [str(n) for n in conn.scalars(select(Invoice.number).where(Invoice.pk.in_(picks[:30000]),
                                                                              Invoice.number.is_not(None)))]
            clients = list(conn.scalars(select(Client.code)))
    finally:
        engine.dispose()
    rng.shuffle(numbers)
    return Targets(token, numbers[:SAMPLE], rng.sample(clients, min(SAMPLE, len(clients))))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env() -> dict[str, str]:
    """The server's environment, without the reminder scheduler: on a fresh database of a million unpaid
    invoices its catch-up at start writes reminders for every overdue one, in the server's workers — a
    one-off job (cron can run it: BILLPACT_REMIND_SCHEDULER=0) that is not the API under test."""
    return {**os.environ, "BILLPACT_REMIND_SCHEDULER": "0"}


@contextmanager
def server(url: str, workers: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`billpact serve` on a free loopback port (its log to a temporary file, not a pipe that could fill and
    stall it; kept for a look when the run failed); its base URL, and the process."""
    port = free_port()
    billpact = str(Path(sys.executable).with_name("billpact"))
    log = tempfile.NamedTemporaryFile(prefix="billpact-api-server-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen([billpact, "serve", "--port", str(port), "--workers", str(workers), "--db", url],
                               env=server_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base, answered = f"http://127.0.0.1:{port}", False
    try:
        for _ in range(1200):
            try:
                if httpx.get(f"{base}/api/v1/invoices?limit=1").status_code == 401:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
            if process.poll() is not None:
                raise RuntimeError(f"the server stopped (see {log.name})")
        else:
            raise RuntimeError("the server never answered")
        yield base, process
        answered = True
    finally:
        stop(process)
        log.close()
        if answered:   # kept only when something went wrong
            os.unlink(log.name)


def worker_cpu(process: subprocess.Popen[bytes]) -> dict[int, float]:
    """User + system CPU-seconds of each of the server's processes (its workers)."""
    found: dict[int, float] = {}
    for child in psutil.Process(process.pid).children(recursive=True):
        with suppress(psutil.Error):
            times = child.cpu_times()
            found[child.pid] = times.user + times.system
    return found


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and after a grace period SIGKILL to the server's own process group (its workers with it):
    a worker still busy with a backlog of requests would otherwise hold the shutdown for minutes."""
    process.terminate()
    try:
        process.wait(timeout=GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=GRACE_S)


def path_of(kind: str, rng: random.Random, aims: Targets, page_size: int) -> str:
    if kind == "list":
        return f"/api/v1/invoices?limit={page_size}"
    if kind == "filtered":
        return f"/api/v1/invoices?client={rng.choice(aims.clients)}&status=issued&limit={page_size}"
    return f"/api/v1/invoices/{rng.choice(aims.numbers)}"


async def one(client: httpx.AsyncClient, kind: str, path: str, due: float, samples: Samples) -> None:
    """One request; its latency counts from when it was due to be sent, not from when it got a connection."""
    try:
        response = await client.get(path)
        samples.bytes_in += len(response.content)
        if response.status_code != 200:
            samples.errors[f"{kind} {response.status_code}"] = samples.errors.get(f"{kind} {response.status_code}",
                                                                                  0) + 1
            return
    except httpx.HTTPError as error:
        samples.errors[f"{kind} {type(error).__name__}"] = samples.errors.get(f"{kind} {type(error).__name__}", 0) + 1
        return
    samples.latencies[kind].append(time.perf_counter() - due)


async def drive(base: str, aims: Targets, args: argparse.Namespace, cpu: Callable[[], dict[int, float]]
                ) -> tuple[Samples, float, int]:
    """Open loop at `args.rate` requests/s for `args.seconds` (after a short warm-up that is not counted),
    from `args.users` users taking turns, each with its own keep-alive connection, as a server's many
    clients do: (samples, seconds until the last answer, requests sent).

    One shared client would send nearly everything over the one or two connections it keeps warm, and a
    connection stays with the server process that accepted it: one process would serve the whole load
    while the others idle (seen: 6.95 against 0.41 CPU-seconds)."""
    rng = random.Random(args.seed)
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
    headers = {"Authorization": f"Bearer {aims.token}"}
    clients = [httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=TIMEOUT_S)
               for _ in range(args.users)]
    try:
        warm = Samples()
        for _ in range(3):   # each worker's first requests import and connect: not the steady state
            await asyncio.gather(*(one(client, kind, path_of(kind, rng, aims, args.page_size), time.perf_counter(),
                                       warm) for client in clients for kind in KINDS))
        samples, tasks = Samples(), []
        total = int(args.rate * args.seconds)
        before = cpu()
        start = time.perf_counter()
        for i in range(total):
            due = start + i / args.rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            kind = KINDS[i % len(KINDS)]
            client = clients[i % len(clients)]
            tasks.append(asyncio.create_task(one(client, kind, path_of(kind, rng, aims, args.page_size), due,
                                                 samples)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
        after = cpu()
        samples.server_cpu_s = sorted((after[pid] - before.get(pid, 0.0) for pid in after), reverse=True)
        return samples, elapsed, total
    finally:
        for client in clients:
            await client.aclose()


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (the value below which `share` of the values lie)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(share * len(ordered) + 0.999999) - 1))]


def latency_figures(prefix: str, values: list[float]) -> dict[str, Any]:
    return {f"{prefix}_requests": len(values),
            **{f"{prefix}_{name}_ms": round(1000 * percentile(values, share), 1)
               for name, share in (("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("max", 1.0))}}


def figures(samples: Samples, elapsed: float, sent: int, rate: float, workers: int) -> dict[str, Any]:
    every = [v for kind in KINDS for v in samples.latencies[kind]]
    out: dict[str, Any] = {"workers": workers, "target_rate": rate, "sent": sent,
                           "answered_ok": len(every), "errors": sum(samples.errors.values()),
                           "achieved_rate": round(len(every) / elapsed, 1), "seconds": round(elapsed, 2),
                           **latency_figures("all", every)}
    for kind in KINDS:
        out |= latency_figures(kind, samples.latencies[kind])
    if samples.errors:
        out["error_kinds"] = dict(samples.errors)
    out["mb_received"] = round(samples.bytes_in / 1e6, 1)
    busy = [round(x, 2) for x in samples.server_cpu_s if x >= 0.05]
    out["server_cpu_s"] = " ".join(map(str, busy))   # per process: is the load spread over the workers?
    out["server_cpu_ms_per_request"] = round(1000 * sum(busy) / max(1, len(every)), 2)
    out["load_peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out


def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    aims = targets(url, args.seed)
    with server(url, args.workers) as (base, process):
        samples, elapsed, sent = asyncio.run(drive(base, aims, args, lambda: worker_cpu(process)))
    engine = make_engine(url)
    backend = engine.dialect.name
    engine.dispose()
    return {"backend": backend, "page_size": args.page_size} | figures(samples, elapsed, sent, args.rate,
                                                                      args.workers)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Load test of the invoice list and detail routes.")
    add_volume_options(parser)
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second, sent on schedule")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2, help="server processes (default: one per core)")
    parser.add_argument("--page-size", type=int, default=50, help="limit of the list requests")
    parser.add_argument("--users", type=int, default=50,
                        help="clients taking turns, each with its own keep-alive connection")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true", help="print only one JSON object of the figures")
    args = parser.parse_args(argv)
    with volume_database(parser, args) as url:
        result = build(url, args.invoices, args.json) | measure(url, args)
    emit(f"API load: invoice list and detail over {result['invoices']:,} invoices ({result['backend']}, "
         f"{args.rate:g} requests/s for {args.seconds:g} s, {args.workers} workers)", result, args.json)


if __name__ == "__main__":
    main()
