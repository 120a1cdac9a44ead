"""Reports as spreadsheets: numbers stay numbers, formula-looking text stays text."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook

from billpact.reports.xlsx import workbook
from tests.conftest import EXAMPLES
from tests.support import run


def test_numbers_are_numbers_and_formulas_are_text() -> None:
    data = workbook("AR aging", ["client", "open"], [['=HYPERLINK("http://x")', "1234.50"], ["ACME", None]])
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert [cell.value for cell in sheet[1]] == ["client", "open"]
    first = sheet[2]
    assert first[0].value == '\'=HYPERLINK("http://x")' and first[0].data_type == "s"
    assert first[1].data_type == "n" and first[1].value == 1234.5
    assert sheet[3][1].value is None


def test_the_aging_wip_and_revenue_reports_write_spreadsheets(db: str, tmp_path: Path) -> None:
    run(db, "import", str(EXAMPLES / "tm-basic.yaml"))
    run(db, "bill", "--through", "2026-02-28", "--issue")
    for args, name, shown in ((("report", "aging", "--as-of", "2026-03-31"), "aging", "ACME"),
                              (("report", "wip", "--as-of", "2026-03-31"), "wip", "C-1"),
                              (("report", "revenue", "--period", "2026-Q1"), "revenue", "C-1")):
        out = tmp_path / f"{name}.xlsx"
        run(db, *args, "--xlsx", str(out))
        sheet = load_workbook(out).active
        assert sheet is not None and sheet.max_row >= 2, name
        assert shown in [c.value for row in sheet.iter_rows() for c in row], name
