"""The audit packet: what it holds, that it checks itself, and `packet` / `packets` on the command line."""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from billpact.audit.service import history
from billpact.cli.app import app  # its commands registered by billpact.cli.main (tests.support imports it)
from billpact.db.session import make_engine, transaction
from billpact.documents.data import invoice_document
from billpact.documents.packet import MANIFEST, Renderer, build_packet, csv_cell, verify_packet
from billpact.documents.pdf import document_pdf
from billpact.documents.periods import parse_period
from billpact.documents.ubl import to_ubl
from billpact.errors import InvalidInput
from billpact.invoices.explain import explain
from billpact.invoices.models import Invoice, InvoiceLine
from tests.conftest import EXAMPLES
from tests.documents.parties import load, with_details
from tests.support import run

SOURCES = ("time_entries.csv", "expenses.csv", "resales.csv", "milestones.csv", "progress.csv",
           "retainage_releases.csv")
# Which line kind each CSV's rows may feed.
FEEDS = {"time_entries.csv": {"time", "cap_adjustment"}, "expenses.csv": {"expense"}, "resales.csv": {"resale"},
         "milestones.csv": {"milestone"}, "progress.csv": {"progress"},
         "retainage_releases.csv": {"retainage_release"}}
FORMULA = '=HYPERLINK("http://x")'


def billed(db: str, example: str, through: str, extra: Path | None = None, *, parties: bool = True) -> None:
    """An acceptance example (with the party details e-invoices need, unless `parties` is false, plus an
    extra import file) billed and issued up to `through`."""
    document = yaml.safe_load((EXAMPLES / example).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        load(db, Path(folder), with_details(document) if parties else document)
    if extra is not None:
        run(db, "import", str(extra))
    run(db, "bill", "--through", through, "--issue")


@pytest.fixture
def session_of() -> Iterator[Any]:
    engines = []

    def open_(db: str) -> Any:
        engine = make_engine(db)
        engines.append(engine)
        return transaction(engine)

    yield open_
    for engine in engines:
        engine.dispose()


def make(db: str, session_of: Any, number: str, renderers: dict[str, Renderer] | None = None) -> bytes:
    with session_of(db) as session:
        return build_packet(session, invoice(session, number), renderers)


def invoice(session: Session, number: str) -> Invoice:
    return session.scalars(select(Invoice).where(Invoice.number == number)).one()


def files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(content: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in content.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def verify_cli(path: Path, *extra: str, code: int = 0) -> Any:
    """`billpact packet verify`: it reads only the zip, so it takes no --db (as `schema`)."""
    result = CliRunner().invoke(app, ["packet", "verify", str(path), *extra])
    assert result.exit_code == code, (result.output, result.exception)
    return result


def rows(data: bytes, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(files(data)[name].decode())))


# ---------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+2", "'=1+2"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), (FORMULA, "'" + FORMULA), ("alice", "alice"), ("", ""), ("a=b", "a=b"),
    (-12, -12), (None, None), (True, True),
])
def test_csv_cell_guards_text_that_starts_like_a_formula(value: object, expected: object) -> None:
    assert csv_cell(value) == expected


@pytest.mark.parametrize(("text", "start", "end"), [
    ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)), ("2026-q4", date(2026, 10, 1), date(2026, 12, 31)),
    ("2026-02", date(2026, 2, 1), date(2026, 2, 28)), ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
    ("2026", date(2026, 1, 1), date(2026, 12, 31)),
])
def test_parse_period(text: str, start: date, end: date) -> None:
    assert parse_period(text) == (start, end)


@pytest.mark.parametrize("text", ["2026-Q5", "2026-13", "26", "2026-1", "Q1", "2026-01-01", ""])
def test_parse_period_refuses_others(text: str) -> None:
    with pytest.raises(InvalidInput, match="YYYY-Qn"):
        parse_period(text)


# ---------------------------------------------------------------- a packet


def test_fresh_packet_holds_every_file_and_verifies(db: str, session_of: Any, tmp_path: Path) -> None:
    billed(db, "tm-basic.yaml", "2026-02-28")
    data = make(db, session_of, "INV-000001")
    content = files(data)
    assert set(content) == {"invoice.pdf", "invoice.xml", *SOURCES, "terms.json", "explanation.txt", "audit.json",
                            MANIFEST}
    manifest = json.loads(content[MANIFEST])
    assert manifest["format"] == 1 and manifest["invoice"] == "INV-000001" and manifest["omitted"] == []
    assert manifest["generator"].startswith("billpact ") and manifest["created_at"]
    assert {f["name"] for f in manifest["files"]} == set(content) - {MANIFEST}
    assert all(f["size"] == len(content[f["name"]]) for f in manifest["files"])
    with session_of(db) as session:
        document = invoice_document(session, invoice(session, "INV-000001"))
    assert content["invoice.pdf"] == document_pdf(document) and content["invoice.xml"] == to_ubl(document)
    assert verify_packet(data) == []
    with session_of(db) as session:
        assert content["explanation.txt"].decode() == explain(session, invoice(session, "INV-000001")) + "\n"

    out = tmp_path / "p.zip"
    result = run(db, "packet", "INV-000001", "--out", str(out))
    assert "INV-000001" in result.stdout and verify_packet(out.read_bytes()) == []
    run(db, "packet", "make", "INV-000002", "--out", str(tmp_path / "q.zip"))
    assert "intact" in verify_cli(out).stdout
    assert json.loads(verify_cli(out, "--json").stdout)["intact"] is True


def test_tampering_is_named(db: str, session_of: Any, tmp_path: Path) -> None:
    billed(db, "tm-basic.yaml", "2026-01-31")
    content = files(make(db, session_of, "INV-000001"))
    for name in set(content) - {MANIFEST}:
        altered = bytearray(content[name])
        altered[len(altered) // 2] ^= 1
        assert verify_packet(rezip({**content, name: bytes(altered)})) == [
            f"{name}: altered (its SHA-256 does not match the manifest)"]
        assert verify_packet(rezip({k: v for k, v in content.items() if k != name})) == [f"{name}: missing"]
    assert verify_packet(rezip({**content, "notes.txt": b"x"})) == ["notes.txt: extra (not in the manifest)"]
    assert verify_packet(rezip({k: v for k, v in content.items() if k != MANIFEST})) == [f"{MANIFEST}: missing"]
    assert verify_packet(b"not a zip") == ["not a zip file"]

    cases = {"altered": {**content, "expenses.csv": content["expenses.csv"] + b"x"},
             "missing": {k: v for k, v in content.items() if k != "audit.json"},
             "extra": {**content, "invoice2.pdf": b"%PDF"}}
    for what, tampered in cases.items():
        path = tmp_path / f"{what}.zip"
        path.write_bytes(rezip(tampered))
        result = verify_cli(path, code=1)
        named = {"altered": "expenses.csv: altered", "missing": "audit.json: missing",
                 "extra": "invoice2.pdf: extra"}[what]
        assert named in result.stderr
    assert "cannot read" in verify_cli(tmp_path / "absent.zip", code=1).stderr


def explained_sources(text: str) -> set[tuple[str, str]]:
    """(line, id) of every time entry and expense the explanation names."""
    found, line = set(), ""
    for row in text.splitlines():
        if match := re.match(r"line (\d+):", row):
            line = match[1]
        elif match := re.match(r"  source (?:time entries|expenses) \(\d+\): (.*)", row):
            found |= {(line, ref) for ref in match[1].split(", ")}
    return found


def test_csvs_hold_exactly_the_entries_the_invoice_billed(db: str, session_of: Any) -> None:
    billed(db, "tm-basic.yaml", "2026-02-28")
    seen: dict[str, list[str]] = {"time_entries.csv": [], "expenses.csv": []}
    for number, months in (("INV-000001", "2026-01"), ("INV-000002", "2026-02")):
        data = make(db, session_of, number)
        in_csv = {(r["line"], r["id"]) for name in seen for r in rows(data, name)}
        assert in_csv == explained_sources(files(data)["explanation.txt"].decode())
        for name in seen:
            assert all(r["date"].startswith(months) for r in rows(data, name))
            seen[name] += [r["id"] for r in rows(data, name)]
        assert not any(rows(data, name) for name in ("resales.csv", "milestones.csv", "progress.csv"))
    # Every time entry billed once; the meals expense (not a billable category) on no invoice.
    assert sorted(seen["time_entries.csv"]) == ["#1", "#2", "#3", "#4", "#5"]
    assert sorted(seen["expenses.csv"]) == ["#1", "#2", "#4"]
    first = rows(make(db, session_of, "INV-000001"), "time_entries.csv")
    assert {(r["date"], r["person"], r["role"], r["overtime"]) for r in first} == {
        ("2026-01-12", "alice", "engineer", "False"), ("2026-01-13", "alice", "engineer", "False"),
        ("2026-01-13", "bob", "senior_engineer", "True"), ("2026-01-14", "bob", "senior_engineer", "False")}


def lines_by_position(db: str, session_of: Any, number: str) -> dict[str, str]:
    with session_of(db) as session:
        found = session.execute(select(InvoiceLine.position, InvoiceLine.kind)
                                .where(InvoiceLine.invoice_pk == invoice(session, number).pk))
        return {str(position): kind for position, kind in found}


@pytest.mark.parametrize(("example", "through", "csv_name", "count"), [
    ("fixed-milestone-retainage.yaml", "2026-06-30", "milestones.csv", 2),
    ("fixed-milestone-retainage.yaml", "2026-06-30", "retainage_releases.csv", 1),
    ("recurring-resale.yaml", "2026-04-30", "resales.csv", 2),
])
def test_every_source_row_names_the_line_it_feeds(db: str, session_of: Any, example: str, through: str,
                                                  csv_name: str, count: int) -> None:
    billed(db, example, through)
    with session_of(db) as session:
        numbers = list(session.scalars(select(Invoice.number).where(Invoice.number.is_not(None))))
    found = []
    for number in numbers:
        kinds = lines_by_position(db, session_of, number)
        data = make(db, session_of, number)
        for name in SOURCES:
            assert all(kinds[r["line"]] in FEEDS[name] for r in rows(data, name)), (number, name)
        found += [(number, r["id"]) for r in rows(data, csv_name)]
    assert len(found) == count and len({ref for _n, ref in found}) == count  # each record on one invoice


def test_formula_text_is_neutralised_in_the_csv(db: str, session_of: Any, tmp_path: Path) -> None:
    extra = tmp_path / "formula.yaml"
    extra.write_text("time:\n"
                     f"  - {{contract: C-1, date: 2026-01-15, person: '{FORMULA}', role: engineer, hours: 1,"
                     " note: '+cmd|calc'}\n"
                     "expenses:\n"
                     "  - {contract: C-1, date: 2026-01-16, category: travel, amount: '10.00', note: '@SUM(1)'}\n")
    billed(db, "tm-basic.yaml", "2026-01-31", extra)
    data = make(db, session_of, "INV-000001")
    time = [r for r in rows(data, "time_entries.csv") if r["date"] == "2026-01-15"]
    assert [(r["person"], r["note"]) for r in time] == [("'" + FORMULA, "'+cmd|calc")]
    assert [r["note"] for r in rows(data, "expenses.csv") if r["date"] == "2026-01-16"] == ["'@SUM(1)"]
    assert verify_packet(data) == []


def test_a_refusing_renderer_leaves_its_file_out_and_says_why(db: str, session_of: Any) -> None:
    """tm-basic's organization and client have no addresses: the Peppol UBL refuses, the PDF is made."""
    billed(db, "tm-basic.yaml", "2026-01-31", parties=False)
    data = make(db, session_of, "INV-000001")
    assert "invoice.xml" not in files(data) and files(data)["invoice.pdf"].startswith(b"%PDF")
    [omitted] = json.loads(files(data)[MANIFEST])["omitted"]
    assert omitted["name"] == "invoice.xml" and omitted["reason"].startswith("could not be made:")
    assert any(problem.startswith("organization.address") for problem in omitted["problems"])
    assert verify_packet(data) == []


def test_terms_and_audit_trail(db: str, session_of: Any) -> None:
    billed(db, "cap-amendment.yaml", "2026-03-31")
    february = json.loads(files(make(db, session_of, "INV-000002"))["terms.json"])
    march = json.loads(files(make(db, session_of, "INV-000003"))["terms.json"])
    assert february["written"]["not_to_exceed"]["amount"] == "5000.00"
    assert february["amendments"] == [] and february["in_force"]["terms"]["not_to_exceed"]["amount"] == "5000.00"
    assert [a["effective"] for a in march["amendments"]] == ["2026-03-01"]
    assert march["in_force"]["terms"]["not_to_exceed"]["amount"] == "6000.00"
    assert march["in_force"]["valid_from"] == "2026-03-01" and march["in_force"]["version"] == 1

    trail = json.loads(files(make(db, session_of, "INV-000003"))["audit.json"])
    actions = [r["action"] for r in trail["records"]]
    assert "approve" in actions and "issue" in actions and all(r["actor"] and r["at"] for r in trail["records"])
    with session_of(db) as session:
        stored = {r.seq: r.hash for r in history(session, "invoice", trail["id"])}
    assert {r["seq"]: r["hash"] for r in trail["records"]} == stored
    assert "intact" in run(db, "audit", "verify").stdout


def test_packets_of_a_period(db: str, tmp_path: Path) -> None:
    billed(db, "fixed-milestone-retainage.yaml", "2026-06-30")   # invoices dated Jan 31, Mar 31, Apr 30, ...
    result = run(db, "packets", "--period", "2026-Q1", "--out", str(tmp_path / "q1"))
    assert "2 packet(s) written" in result.stdout
    written = sorted(p.name for p in (tmp_path / "q1").iterdir())
    assert written == ["INV-000001.zip", "INV-000002.zip"]
    assert all(verify_packet(p.read_bytes()) == [] for p in (tmp_path / "q1").iterdir())
    found = run(db, "packets", "--period", "2026-04", "--out", str(tmp_path / "apr"), "--json")
    assert [Path(p).name for p in found["written"]] == ["INV-000003.zip"]
    assert "0 packet(s)" in run(db, "packets", "--period", "2025", "--out", str(tmp_path / "none")).stdout
    assert "YYYY-Qn" in run(db, "packets", "--period", "2026-Q7", "--out", str(tmp_path / "x"), code=1).stderr


def test_unknown_invoice_and_draft(db: str, tmp_path: Path) -> None:
    result = run(db, "packet", "INV-999999", "--out", str(tmp_path / "x.zip"), code=1)
    assert "no invoice 'INV-999999'" in result.stderr and not (tmp_path / "x.zip").exists()
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    draft = run(db, "bill", "--through", "2026-01-31", "--json")[0]["id"]
    assert "not issued" in run(db, "packet", str(draft), "--out", str(tmp_path / "d.zip"), code=1).stderr
