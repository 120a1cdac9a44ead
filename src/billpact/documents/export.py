"""One entry point for the files of an invoice or credit note, for the CLI, the API and the web pages.

Every format renders the same `Document`; a format that cannot be made (an e-invoice missing a
party's address, a draft without a number) raises InvalidInput naming each problem, before any file
is written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from billpact.documents.data import Document
from billpact.documents.facturx import facturx_pdf
from billpact.documents.pdf import document_pdf
from billpact.documents.ubl import to_ubl

# format -> (media type, file extension, renderer)
FORMATS: dict[str, tuple[str, str, Callable[[Document], bytes]]] = {
    "pdf": ("application/pdf", "pdf", document_pdf),
    "ubl": ("application/xml", "xml", to_ubl),
    "facturx": ("application/pdf", "pdf", lambda document: facturx_pdf(document, document_pdf(document))),
}


def render(document: Document, fmt: str) -> bytes:
    return FORMATS[fmt][2](document)


def file_name(document: Document, fmt: str) -> str:
    """`INV-000001.pdf`, `INV-000001.xml`, `INV-000001-facturx.pdf`; a draft is `draft-<date>`."""
    stem = document.number or f"draft-{document.contract}-{document.issue_date}"
    return f"{stem}{'-facturx' if fmt == 'facturx' else ''}.{FORMATS[fmt][1]}"


def write_file(path: Path, data: bytes) -> None:
    """Write all of it or nothing: a reader never finds half a PDF where the last one was."""
    folder = path.resolve().parent
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
