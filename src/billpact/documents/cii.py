"""A `Document` as UN/CEFACT Cross Industry Invoice (CII D16B), EN 16931 profile: the XML in a Factur-X PDF.

It renders the same `Document` the PDF and the UBL render, so the three agree to the cent; nothing is
recomputed except the sums EN 16931 wants stated apart (lines, allowances). The constraints it meets
are the ones of ../shared/spec/einvoice-notes.md, which hold for CII as for UBL:

- no negative line: a negative line (a cap adjustment) becomes a document-level allowance
  (BG-20, ChargeIndicator false) in its tax category, never a negative price (BR-27);
- retainage has no field: the amount due is the full total, the retention is said in the payment terms;
- amounts carry at most 2 decimals (BR-DEC): a 3-digit currency cannot be expressed and is refused;
- what a buyer's system needs to identify the parties is required, and every missing item is named
  with the import-file path that fixes it.

Element order follows the Factur-X 1.0 EN 16931 XSD (a sequence: order matters).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lxml import etree

from billpact.documents.data import Document, Line, Party, TaxGroup
from billpact.documents.xml import element
from billpact.errors import InvalidInput

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
EN16931 = "urn:cen.eu:en16931:2017"
TYPE_CODES = {"invoice": "380", "credit_note": "381"}
SEPA_CREDIT_TRANSFER = "58"
CREDIT_TRANSFER = "30"
REQUIRED = "required for an e-invoice"
ZERO = Decimal(0)


# ---------------------------------------------------------------- refusals


def _party_problems(party: Party, path: str, *, tax_identity: bool) -> list[str]:
    """What a party lacks for EN 16931: name (BR-6/7), address with country (BR-8/9, BR-10/11) and, for
    the seller, an identifier a buyer can match (BR-CO-26; BR-S-02 accepts a VAT id or tax registration)."""
    problems = []
    if not party.name:
        problems.append(f"{path}.name: {REQUIRED}")
    if party.address is None or not party.address.country:
        problems.append(f"{path}.address.country: {REQUIRED}")
    if tax_identity and not (party.vat_id or party.tax_id or party.legal_id):
        problems.append(f"{path}.vat_id: {REQUIRED} (or tax_id, or legal_id)")
    return problems


def _category_problems(document: Document, buyer_path: str) -> list[str]:
    """Reverse charge and intra-community supplies name the buyer's VAT id (BR-AE-02, BR-IC-02)."""
    categories = {line.tax_category for line in document.lines}
    if categories & {"AE", "K"} and not document.buyer.vat_id:
        return [f"{buyer_path}.vat_id: required for an e-invoice under reverse charge or intra-community supply"]
    return []


def problems(document: Document) -> list[str]:
    """Every reason the document cannot be an EN 16931 CII invoice, each with the path that fixes it."""
    found = []
    if document.number is None:
        found.append("number: a draft has no number; issue it before making an e-invoice")
    if document.digits > 2:
        found.append(f"currency: {document.currency} has {document.digits} decimals; EN 16931 amounts carry "
                     "at most 2 (BR-DEC), so it cannot be invoiced exactly")
    buyer_path = f"clients[{document.buyer.code}]" if document.buyer.code else "client"
    found += _party_problems(document.seller, "organization", tax_identity=True)
    found += _party_problems(document.buyer, buyer_path, tax_identity=False)
    found += _category_problems(document, buyer_path)
    return found


# ---------------------------------------------------------------- formatting


@dataclass(frozen=True, slots=True)
class _Writer:
    """Builds elements and formats amounts with the document's currency digits."""

    digits: int

    def amount(self, value: Decimal) -> str:
        return f"{value:.{self.digits}f}"

    @staticmethod
    def number(value: Decimal) -> str:
        """A quantity, price or percent as written, without trailing zeros or exponent."""
        text = f"{value.normalize():f}"
        return "0" if text == "-0" else text

    @staticmethod
    def el(parent: etree._Element, name: str, text: str | None = None, **attributes: str) -> etree._Element:
        return element(NSMAP, parent, name, text, **attributes)

    def date(self, parent: etree._Element, name: str, day: date, *, qualified: bool = False) -> None:
        holder = self.el(parent, name)
        self.el(holder, "qdt:DateTimeString" if qualified else "udt:DateTimeString", day.strftime("%Y%m%d"),
                format="102")


# ---------------------------------------------------------------- document parts


def _context(w: _Writer, root: etree._Element) -> None:
    context = w.el(root, "rsm:ExchangedDocumentContext")
    w.el(w.el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931)


def _notes(document: Document) -> list[str]:
    notes = list(document.notes)
    if document.reason:
        notes.insert(0, f"Reason for credit: {document.reason}")
    return notes


def _header(w: _Writer, root: etree._Element, document: Document) -> None:
    header = w.el(root, "rsm:ExchangedDocument")
    w.el(header, "ram:ID", document.number)
    w.el(header, "ram:TypeCode", TYPE_CODES[document.kind])
    w.date(header, "ram:IssueDateTime", document.issue_date)
    for note in _notes(document):
        w.el(w.el(header, "ram:IncludedNote"), "ram:Content", note)


def _trade_tax(w: _Writer, parent: etree._Element, name: str, category: str, percent: Decimal | None) -> None:
    tax = w.el(parent, name)
    w.el(tax, "ram:TypeCode", "VAT")
    w.el(tax, "ram:CategoryCode", category)
    if percent is not None:
        w.el(tax, "ram:RateApplicablePercent", w.number(percent))


def _line(w: _Writer, parent: etree._Element, line: Line) -> None:
    item = w.el(parent, "ram:IncludedSupplyChainTradeLineItem")
    w.el(w.el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(line.position))
    w.el(w.el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
    agreement = w.el(item, "ram:SpecifiedLineTradeAgreement")
    w.el(w.el(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", w.number(line.unit_price))
    w.el(w.el(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", w.number(line.quantity),
         unitCode=line.unit)
    settlement = w.el(item, "ram:SpecifiedLineTradeSettlement")
    _trade_tax(w, settlement, "ram:ApplicableTradeTax", line.tax_category, line.tax_percent)
    summation = w.el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    w.el(summation, "ram:LineTotalAmount", w.amount(line.amount))


def _address(w: _Writer, parent: etree._Element, party: Party) -> None:
    address = party.address
    if address is None:
        return
    postal = w.el(parent, "ram:PostalTradeAddress")
    if address.postcode:
        w.el(postal, "ram:PostcodeCode", address.postcode)
    for name, text in zip(("ram:LineOne", "ram:LineTwo", "ram:LineThree"), address.lines, strict=False):
        w.el(postal, name, text)
    if address.city:
        w.el(postal, "ram:CityName", address.city)
    w.el(postal, "ram:CountryID", address.country or "")
    if address.region:
        w.el(postal, "ram:CountrySubDivisionName", address.region)


def _party(w: _Writer, parent: etree._Element, name: str, party: Party, *, seller: bool) -> None:
    """A trade party. Only the seller has a tax registration besides the VAT id (BT-32, scheme FC): the
    buyer's other tax ids have no place in EN 16931, and the schematron rejects them."""
    node = w.el(parent, name)
    w.el(node, "ram:Name", party.name)
    if party.legal_id:
        w.el(w.el(node, "ram:SpecifiedLegalOrganization"), "ram:ID", party.legal_id)
    _address(w, node, party)
    if party.endpoint_id and party.endpoint_scheme:
        w.el(w.el(node, "ram:URIUniversalCommunication"), "ram:URIID", party.endpoint_id,
             schemeID=party.endpoint_scheme)
    for scheme, identifier in (("VA", party.vat_id), ("FC", party.tax_id if seller else None)):
        if identifier:
            w.el(w.el(node, "ram:SpecifiedTaxRegistration"), "ram:ID", identifier, schemeID=scheme)


def _agreement(w: _Writer, parent: etree._Element, document: Document) -> None:
    agreement = w.el(parent, "ram:ApplicableHeaderTradeAgreement")
    if document.buyer_reference:
        w.el(agreement, "ram:BuyerReference", document.buyer_reference)
    _party(w, agreement, "ram:SellerTradeParty", document.seller, seller=True)
    _party(w, agreement, "ram:BuyerTradeParty", document.buyer, seller=False)
    if document.purchase_order:
        w.el(w.el(agreement, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID", document.purchase_order)
    w.el(w.el(agreement, "ram:ContractReferencedDocument"), "ram:IssuerAssignedID", document.contract)


def _payment_means(w: _Writer, parent: etree._Element, document: Document) -> None:
    """SEPA credit transfer (58) to an IBAN in euros, else a plain credit transfer (30); credit notes and
    an organization without bank details carry none (BG-16 is optional in EN 16931)."""
    bank = document.bank
    if document.kind != "invoice" or bank is None or not (bank.iban or bank.account_number):
        return
    means = w.el(parent, "ram:SpecifiedTradeSettlementPaymentMeans")
    sepa = bool(bank.iban) and document.currency == "EUR"
    w.el(means, "ram:TypeCode", SEPA_CREDIT_TRANSFER if sepa else CREDIT_TRANSFER)
    account = w.el(means, "ram:PayeePartyCreditorFinancialAccount")
    if bank.iban:
        w.el(account, "ram:IBANID", bank.iban)
    else:
        w.el(account, "ram:ProprietaryID", bank.account_number)
    if bank.account_name:
        w.el(account, "ram:AccountName", bank.account_name)
    if bank.bic:
        w.el(w.el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", bank.bic)


def _tax_group(w: _Writer, parent: etree._Element, group: TaxGroup) -> None:
    tax = w.el(parent, "ram:ApplicableTradeTax")
    w.el(tax, "ram:CalculatedAmount", w.amount(group.tax))
    w.el(tax, "ram:TypeCode", "VAT")
    if group.exemption_reason:
        w.el(tax, "ram:ExemptionReason", group.exemption_reason)
    w.el(tax, "ram:BasisAmount", w.amount(group.taxable_amount))
    w.el(tax, "ram:CategoryCode", group.category)
    if group.percent is not None:
        w.el(tax, "ram:RateApplicablePercent", w.number(group.percent))


def _allowance(w: _Writer, parent: etree._Element, line: Line) -> None:
    """A negative line as a document-level allowance in the line's tax category (BG-20)."""
    allowance = w.el(parent, "ram:SpecifiedTradeAllowanceCharge")
    w.el(w.el(allowance, "ram:ChargeIndicator"), "udt:Indicator", "false")
    w.el(allowance, "ram:ActualAmount", w.amount(-line.amount))
    w.el(allowance, "ram:Reason", line.description)
    _trade_tax(w, allowance, "ram:CategoryTradeTax", line.tax_category, line.tax_percent)


def payment_terms_text(document: Document) -> str:
    """The payment terms (BT-20), with the retainage said in words: EN 16931 has no field for it, and
    stating it as paid (BT-113) would be false, so the amount due stays the full total."""
    text = f"Payment terms: {document.payment_terms}"
    if document.retainage:
        amount = f"{document.retainage:.{document.digits}f} {document.currency}"
        if document.kind == "invoice":
            text += (f". Retainage of {amount} is held under contract {document.contract}: pay "
                     f"{document.amount_due:.{document.digits}f} {document.currency} now; the retainage is "
                     "payable on its release")
        else:
            text += f". Of this credit, {amount} is retainage no longer held under contract {document.contract}"
    return text


def _payment_terms(w: _Writer, parent: etree._Element, document: Document) -> None:
    terms = w.el(parent, "ram:SpecifiedTradePaymentTerms")
    w.el(terms, "ram:Description", payment_terms_text(document))
    if document.due_date is not None:
        w.date(terms, "ram:DueDateDateTime", document.due_date)


@dataclass(frozen=True, slots=True)
class Totals:
    """The document-level sums EN 16931 states (BG-22): lines, allowances, basis, tax, grand total."""

    lines: Decimal
    allowances: Decimal
    basis: Decimal
    tax: Decimal
    grand: Decimal


def totals(document: Document) -> Totals:
    """Sums of the positive lines and of the allowances (negative lines); their difference is the
    stored subtotal, which is checked rather than trusted to agree (BR-CO-13)."""
    lines = sum((line.amount for line in document.lines if line.amount >= 0), ZERO)
    allowances = sum((-line.amount for line in document.lines if line.amount < 0), ZERO)
    if lines - allowances != document.subtotal or document.subtotal + document.tax != document.total:
        raise ValueError(f"{document.number}: lines, subtotal, tax and total do not add up")
    return Totals(lines, allowances, document.subtotal, document.tax, document.total)


def _summation(w: _Writer, parent: etree._Element, document: Document) -> None:
    found = totals(document)
    summation = w.el(parent, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    w.el(summation, "ram:LineTotalAmount", w.amount(found.lines))
    w.el(summation, "ram:AllowanceTotalAmount", w.amount(found.allowances))
    w.el(summation, "ram:TaxBasisTotalAmount", w.amount(found.basis))
    w.el(summation, "ram:TaxTotalAmount", w.amount(found.tax), currencyID=document.currency)
    w.el(summation, "ram:GrandTotalAmount", w.amount(found.grand))
    w.el(summation, "ram:DuePayableAmount", w.amount(found.grand))


def _corrected(w: _Writer, parent: etree._Element, document: Document) -> None:
    if document.corrects is None:
        return
    referenced = w.el(parent, "ram:InvoiceReferencedDocument")
    w.el(referenced, "ram:IssuerAssignedID", document.corrects)
    if document.corrects_date is not None:
        w.date(referenced, "ram:FormattedIssueDateTime", document.corrects_date, qualified=True)


def _settlement(w: _Writer, parent: etree._Element, document: Document) -> None:
    settlement = w.el(parent, "ram:ApplicableHeaderTradeSettlement")
    w.el(settlement, "ram:PaymentReference", document.number)
    w.el(settlement, "ram:InvoiceCurrencyCode", document.currency)
    _payment_means(w, settlement, document)
    for group in document.taxes:
        _tax_group(w, settlement, group)
    if document.period_start and document.period_end:
        period = w.el(settlement, "ram:BillingSpecifiedPeriod")
        w.date(period, "ram:StartDateTime", document.period_start)
        w.date(period, "ram:EndDateTime", document.period_end)
    for line in _negative(document.lines):
        _allowance(w, settlement, line)
    _payment_terms(w, settlement, document)
    _summation(w, settlement, document)
    _corrected(w, settlement, document)


def _negative(lines: Iterable[Line]) -> list[Line]:
    return [line for line in lines if line.amount < 0]


# ---------------------------------------------------------------- the document


def to_cii(document: Document) -> bytes:
    """The CII XML of an issued invoice or credit note (UTF-8, with declaration); InvalidInput lists
    everything that keeps it from being one."""
    found = problems(document)
    if found:
        raise InvalidInput(found, what=f"e-invoice of {document.number or 'a draft'}")
    w = _Writer(document.digits)
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    _context(w, root)
    _header(w, root, document)
    transaction = w.el(root, "rsm:SupplyChainTradeTransaction")
    for line in document.lines:
        if line.amount >= 0:
            _line(w, transaction, line)
    _agreement(w, transaction, document)
    w.el(transaction, "ram:ApplicableHeaderTradeDelivery")
    _settlement(w, transaction, document)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
