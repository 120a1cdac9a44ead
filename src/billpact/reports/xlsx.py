"""Reports as spreadsheets (`--xlsx FILE`): one sheet of a header row and the report's rows.

Numbers go in as numbers (exact Decimals, so sums in the spreadsheet match the report); text that a
spreadsheet would run as a formula (=, +, -, @ …) is written as plain text with a leading apostrophe,
as the CSV exports do.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from billpact.documents.packet import csv_cell

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def cell(value: Any) -> Any:
    """A report value as a spreadsheet cell: numbers as Decimals, None as empty, text made safe."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    return Decimal(text) if NUMBER.match(text) else csv_cell(text)


def workbook(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]   # the longest sheet name a spreadsheet accepts
    sheet.append(list(header))
    for row in rows:
        sheet.append([cell(value) for value in row])
        for written in sheet[sheet.max_row]:
            if isinstance(written.value, str):
                written.data_type = "s"   # never a formula, whatever the text
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
