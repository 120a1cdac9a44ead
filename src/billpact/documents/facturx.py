"""Factur-X / ZUGFeRD 2 (EN 16931 profile): the visual PDF with its CII XML embedded as factur-x.xml.

One file a person reads and a buyer's system books, made of the same `Document`. The embedding (PDF/A-3
attachment, XMP metadata) is the `factur-x` library's; billpact only supplies the XML and the PDF.
"""

from __future__ import annotations

from typing import Any

import facturx

from billpact.documents.cii import to_cii
from billpact.documents.data import Document

FLAVOR = "factur-x"
LEVEL = "en16931"


def facturx_pdf(document: Document, pdf: bytes) -> bytes:
    """`pdf` with `to_cii(document)` embedded at level EN 16931. The library checks the XML against the
    XSD first and raises if it fails, so an invalid Factur-X file is never produced."""
    out: bytes = facturx.generate_from_binary(pdf, to_cii(document), flavor=FLAVOR, level=LEVEL, check_xsd=True,
                                              lang="en-GB")
    return out


def embedded_xml(pdf: bytes) -> bytes | None:
    """The Factur-X XML a PDF carries, unchecked; None when it carries none."""
    _name, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=False)
    return xml if isinstance(xml, bytes) and xml else None


def check_facturx(pdf: bytes) -> list[str]:
    """What is wrong with a Factur-X PDF: no embedded XML, or XML the EN 16931 XSD rejects. Empty: valid
    against the schema (the schematron business rules are not run here)."""
    try:
        xml = embedded_xml(pdf)
    except Exception as error:  # the library raises a bare Exception for an unreadable PDF
        return [f"not a readable PDF: {error}"]
    if xml is None:
        return ["no factur-x.xml attachment in the PDF"]
    return xsd_problems(xml)


def xsd_problems(xml: bytes) -> list[str]:
    """The XSD check of the library at level EN 16931, as a list (it raises a bare Exception)."""
    try:
        valid: Any = facturx.xml_check_xsd(xml, flavor=FLAVOR, level=LEVEL)
    except Exception as error:  # the library's only way of saying "invalid"
        return [str(error)]
    return [] if valid else ["the XML is not valid against the Factur-X EN 16931 XSD"]
