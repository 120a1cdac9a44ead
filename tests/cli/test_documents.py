"""`invoice --pdf/--ubl/--facturx/--pay-application`, `credit-note --pdf`, `statement --pdf`: all files or none."""

from __future__ import annotations

from pathlib import Path

import yaml
from pypdf import PdfReader

from billpact.documents.facturx import check_facturx
from tests.conftest import EXAMPLES
from tests.documents.parties import load, with_details
from tests.support import run


def test_an_invoice_writes_every_format_asked(db: str, tmp_path: Path) -> None:
    load(db, tmp_path, with_details(yaml.safe_load((EXAMPLES / "tm-basic.yaml").read_text())))
    run(db, "bill", "--through", "2026-01-31", "--issue")
    pdf, ubl, facturx = tmp_path / "i.pdf", tmp_path / "i.xml", tmp_path / "fx.pdf"
    written = run(db, "invoice", "INV-000001", "--pdf", str(pdf), "--ubl", str(ubl), "--facturx", str(facturx),
                  "--json")
    assert [w["file"] for w in written["written"]] == [str(pdf), str(ubl), str(facturx)]
    assert "INV-000001" in PdfReader(pdf).pages[0].extract_text()
    assert b"<cbc:ID>INV-000001</cbc:ID>" in ubl.read_bytes()
    assert check_facturx(facturx.read_bytes()) == []
    note = run(db, "credit", "INV-000001", "--line", "1", "--reason", "rate_error", "--json")
    run(db, "credit-note", note["number"], "--pdf", str(tmp_path / "cn.pdf"))
    assert "INV-000001" in PdfReader(tmp_path / "cn.pdf").pages[0].extract_text()
    run(db, "statement", "ACME", "--as-of", "2026-03-01", "--pdf", str(tmp_path / "s.pdf"))
    assert "INV-000001" in "".join(page.extract_text() for page in PdfReader(tmp_path / "s.pdf").pages)


def test_a_refused_format_writes_no_file_at_all(db: str, tmp_path: Path) -> None:
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))        # no addresses: no e-invoice
    run(db, "bill", "--through", "2026-01-31", "--issue")
    out = tmp_path / "out"
    out.mkdir()
    pdf, ubl = out / "i.pdf", out / "i.xml"
    refused = run(db, "invoice", "INV-000001", "--pdf", str(pdf), "--ubl", str(ubl), code=1)
    assert "organization.address.country" in refused.stderr
    assert not pdf.exists() and not ubl.exists() and list(out.iterdir()) == []
    refused = run(db, "invoice", "INV-000001", "--pay-application", str(pdf), code=1)
    assert "no progress term" in refused.stderr and not pdf.exists()
