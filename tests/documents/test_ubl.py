"""Peppol BIS Billing 3.0 UBL (billpact.documents.ubl): what billpact issues passes the validator a Peppol
access point runs (UBL 2.1 XSD, EN 16931 and Peppol schematron), states the Document's totals, and what
cannot be a valid e-invoice is refused with every missing item named."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from billpact.credit_notes.models import CreditNote
from billpact.db.session import make_engine, transaction
from billpact.documents.data import Document, find_document
from billpact.documents.ubl import CAP_ADJUSTMENT, to_ubl
from billpact.errors import InvalidInput
from billpact.invoices.models import Invoice
from tests.conftest import EXAMPLES
from tests.documents.parties import load, with_details
from tests.support import database, run

EINVOICE = Path(os.environ.get("BILLPACT_EINVOICE_DIR") or Path(__file__).resolve().parents[2].parent / "shared"
                / "einvoice")
NS = {"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
      "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
SCENARIOS = sorted(p.name for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))

@pytest.fixture(scope="session")
def validator() -> Any:
    """One Validator for the session: compiling the EN 16931 stylesheet takes most of a second."""
    if not (EINVOICE / "validate.py").is_file():
        pytest.fail(f"the e-invoice validator is missing: no validate.py in {EINVOICE} "
                    "(set BILLPACT_EINVOICE_DIR to the shared/einvoice directory)")
    sys.path.insert(0, str(EINVOICE))
    from validate import default_validator  # type: ignore[import-not-found]

    found = default_validator()
    found.warm_up()
    return found


def scenario(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def session(db: str) -> Iterator[Session]:
    with database(db) as found:
        yield found


def documents(db: str) -> list[Document]:
    """Every issued invoice and every credit note in the database, as documents."""
    engine = make_engine(db)
    try:
        with transaction(engine) as session:
            numbers = [n for n in session.scalars(select(Invoice.number).order_by(Invoice.pk)) if n]
            numbers += list(session.scalars(select(CreditNote.number).order_by(CreditNote.pk)))
            return [find_document(session, number) for number in numbers]
    finally:
        engine.dispose()


def assert_valid(validator: Any, found: list[Document]) -> None:
    failures = []
    for document in found:
        result = validator.validate_bytes(to_ubl(document), str(document.number))
        if not result.ok:
            failures.append(result.format())
    assert not failures, "\n".join(failures)


def xml_of(document: Document) -> etree._Element:
    return etree.fromstring(to_ubl(document))


def amount(root: etree._Element, path: str) -> Decimal:
    return Decimal(root.findtext(path, namespaces=NS) or "nan")


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_invoice_and_credit_note_of_the_scenarios_is_peppol_valid(db: str, tmp_path: Path, validator: Any,
                                                                       name: str) -> None:
    load(db, tmp_path, with_details(scenario(name)))
    issued = run(db, "bill", "--through", "2026-06-30", "--issue", "--json")
    run(db, "credit", issued[0]["number"], "--line", "1", "--reason", "rate_error", "--date", "2026-07-01")
    run(db, "credit", issued[1]["number"], "--amount", "10", "--reason", "goodwill", "--date", "2026-07-01")
    found = documents(db)
    assert [d.kind for d in found].count("credit_note") == 2 and len(found) == len(issued) + 2
    assert_valid(validator, found)


def test_every_issued_document_of_the_demo_is_peppol_valid(db_url: str, validator: Any) -> None:
    """The demo firm: four currencies (JPY without decimals), every term kind, a not-to-exceed cap,
    retainage and a credit note — about fifty documents, a few seconds on each backend."""
    run(db_url, "demo")
    found = documents(db_url)
    assert {d.currency for d in found} == {"USD", "EUR", "GBP", "JPY"} and any(d.kind == "credit_note" for d in found)
    assert all(d.purchase_order or d.buyer_reference for d in found if d.contract in ("C-100", "C-300", "C-400"))
    assert_valid(validator, found)


@pytest.mark.parametrize("category", ["O", "AE", "K", "G", "E", "Z"])
def test_each_tax_category_of_a_client_is_peppol_valid(db: str, tmp_path: Path, validator: Any,
                                                       session: Session, category: str) -> None:
    doc = with_details(scenario("recurring-resale.yaml"))
    doc["clients"][0].update(tax_rate="0", tax_category=category)
    load(db, tmp_path, doc)
    run(db, "bill", "--through", "2026-02-28", "--issue")
    found = documents(db)
    assert_valid(validator, found)
    root = xml_of(found[0])
    [subtotal] = root.findall("cac:TaxTotal/cac:TaxSubtotal", NS)
    assert subtotal.findtext("cac:TaxCategory/cbc:ID", namespaces=NS) == category
    assert (subtotal.find("cac:TaxCategory/cbc:Percent", NS) is None) == (category == "O")
    assert (subtotal.find("cac:TaxCategory/cbc:TaxExemptionReason", NS) is None) == (category == "Z")
    vat_ids = root.xpath(".//cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']", namespaces=NS)
    assert len(vat_ids) == (0 if category == "O" else 2)  # outside the scope of VAT no VAT id is shown


# ---------------------------------------------------------------- totals and the mapping


def test_the_totals_are_the_documents_and_a_cap_adjustment_is_an_allowance(db: str, tmp_path: Path,
                                                                           session: Session) -> None:
    load(db, tmp_path, with_details(scenario("cap-amendment.yaml")))
    run(db, "bill", "--through", "2026-03-31", "--issue")
    for document in documents(db):
        root = xml_of(document)
        assert amount(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == document.total
        assert amount(root, "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount") == document.subtotal
        assert amount(root, "cac:TaxTotal/cbc:TaxAmount") == document.tax
    capped = find_document(session, "INV-000002")
    assert [line.amount for line in capped.lines if line.kind == "cap_adjustment"] == [Decimal("-800.00")]
    root = xml_of(capped)
    [allowance] = root.findall("cac:AllowanceCharge", NS)
    assert allowance.findtext("cbc:ChargeIndicator", namespaces=NS) == "false"
    assert allowance.findtext("cbc:AllowanceChargeReason", namespaces=NS) == CAP_ADJUSTMENT
    assert amount(allowance, "cbc:Amount") == Decimal("800.00")
    assert allowance.findtext("cac:TaxCategory/cbc:ID", namespaces=NS) == "Z"
    assert len(root.findall("cac:InvoiceLine", NS)) == 2  # the negative line is not a line
    assert amount(root, "cac:LegalMonetaryTotal/cbc:LineExtensionAmount") == Decimal("2800.00")
    assert amount(root, "cac:LegalMonetaryTotal/cbc:AllowanceTotalAmount") == Decimal("800.00")
    assert amount(root, "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxableAmount") == Decimal("2000.00")
    assert all(Decimal(p.text or "") >= 0 for p in root.iterfind(".//cac:Price/cbc:PriceAmount", NS))
    released = xml_of(find_document(session, "INV-000003"))  # the cap raised: the release stays a line
    assert not released.findall("cac:AllowanceCharge", NS) and len(released.findall("cac:InvoiceLine", NS)) == 2


def test_retainage_is_said_in_the_payment_terms_and_the_full_total_is_payable(db: str, tmp_path: Path) -> None:
    load(db, tmp_path, with_details(scenario("fixed-milestone-retainage.yaml")))
    run(db, "bill", "--through", "2026-01-31", "--issue")
    [document] = documents(db)
    assert document.retainage > 0 and document.amount_due == document.total - document.retainage
    root = xml_of(document)
    assert amount(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == document.total
    terms = root.findtext("cac:PaymentTerms/cbc:Note", namespaces=NS) or ""
    assert f"Retainage of {document.retainage:.2f} USD" in terms and f"pay {document.amount_due:.2f} USD" in terms
    assert root.findtext("cbc:BuyerReference", namespaces=NS) == "C-2"  # no PO nor reference: the contract
    assert root.findtext("cac:ContractDocumentReference/cbc:ID", namespaces=NS) == "C-2"


def test_a_credit_note_references_its_invoice_and_the_order(db: str, tmp_path: Path, session: Session) -> None:
    doc = with_details(scenario("tm-basic.yaml"))
    doc["contracts"][0]["purchase_order"] = "PO-77"
    load(db, tmp_path, doc)
    run(db, "bill", "--through", "2026-01-31", "--issue")
    run(db, "credit", "INV-000001", "--line", "4", "--reason", "rate_error", "--date", "2026-02-02")
    root = xml_of(find_document(session, "CN-000001"))
    assert etree.QName(root).localname == "CreditNote"
    assert root.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=NS) == "INV-000001"
    assert root.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate",
                         namespaces=NS) == "2026-01-31"
    assert root.findtext("cac:OrderReference/cbc:ID", namespaces=NS) == "PO-77"
    assert root.findtext("cbc:BuyerReference", namespaces=NS) == "PO-77"
    assert root.find("cac:CreditNoteLine/cbc:CreditedQuantity", NS) is not None
    assert root.find("cbc:DueDate", NS) is None


# ---------------------------------------------------------------- refusals


def test_missing_party_details_are_listed_each_with_its_path(db: str, tmp_path: Path, session: Session) -> None:
    doc = scenario("recurring-resale.yaml")  # EUR at 20 %: standard rated, so the seller's tax id is needed
    doc.pop("through", None)
    doc["organization"] = {"name": "Prime Engineering Ltd"}
    doc["clients"][0]["endpoint"] = {"scheme": "EM", "id": "ap@globex.example"}
    load(db, tmp_path, doc)
    run(db, "bill", "--through", "2026-01-31", "--issue")
    with pytest.raises(InvalidInput) as refused:
        to_ubl(find_document(session, "INV-000001"))
    assert refused.value.problems == [
        "organization.address.country: required for an e-invoice (import the organization's address)",
        "organization.endpoint: required for Peppol (the organization's electronic address: scheme and id, "
        "e.g. 0088 and a 13-digit GLN, or 9930 and a German VAT id)",
        "clients[GLOBEX].address.country: required for an e-invoice (import the client's address)",
        "clients[GLOBEX].endpoint.scheme: EM is not a Peppol electronic address scheme (EAS code list; e-mail, "
        "EM, is not routed): use e.g. 0088 with a GLN",
        "organization.vat_id: required for an e-invoice with tax category S (or organization.tax_id)",
        "organization.legal_id: required for an e-invoice without a VAT id the buyer can match (BR-CO-26)",
    ]
    assert refused.value.message.startswith("e-invoice: 6 problems")


def test_a_three_decimal_currency_is_refused_not_rounded(db: str, tmp_path: Path, session: Session) -> None:
    doc = with_details(scenario("tm-basic.yaml"))
    doc["clients"][0]["currency"] = "KWD"
    doc["clients"][0]["address"]["country"] = "KW"
    load(db, tmp_path, doc)
    run(db, "bill", "--through", "2026-01-31", "--issue")
    with pytest.raises(InvalidInput) as refused:
        to_ubl(find_document(session, "INV-000001"))
    assert refused.value.problems == ["contracts[C-1].currency: KWD has 3 decimals; e-invoice amounts carry at "
                                      "most 2 (BR-DEC), so it cannot be stated exactly and is not rounded"]


def test_a_draft_is_refused(db: str, tmp_path: Path, session: Session) -> None:
    load(db, tmp_path, with_details(scenario("tm-basic.yaml")))
    [draft] = run(db, "bill", "--through", "2026-01-31", "--json")
    with pytest.raises(InvalidInput) as refused:
        to_ubl(find_document(session, str(draft["id"])))
    assert refused.value.problems == ["number: a draft has no number: issue it first"]
