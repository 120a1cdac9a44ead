"""A `Document` as Peppol BIS Billing 3.0 UBL 2.1: an Invoice or a CreditNote a Peppol access point accepts.

It renders the same `Document` as the PDF and the Factur-X CII, so they agree to the cent; the sums
EN 16931 states apart (lines, allowances) and the payment terms text are the CII module's, not a second
copy. The mapping, field by field, is in docs/einvoice.md. What shapes it (../shared/spec/einvoice-notes.md):

- no negative price (BR-27): a negative line (a not-to-exceed cap adjustment) becomes a document-level
  allowance (BG-20) in its tax category; the tax breakdown already nets it in its group;
- retainage has no field: the amount due (BT-115) is the full total and the retention is said in the
  payment terms (BT-20), because stating it as paid (BT-113) would be false;
- amounts carry at most 2 decimals (BR-DEC): currencies with more minor digits are refused, never rounded;
- what EN 16931 and Peppol require of the parties (addresses, electronic addresses, tax identity) is
  checked first, and every missing item is named with the import-file path that supplies it.

Element order follows the UBL 2.1 XSD sequences (order matters); one order serves both roots because the
few elements whose places differ (DueDate, the exchange rates) are not used on credit notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lxml import etree

from billpact.documents.cii import payment_terms_text, totals
from billpact.documents.data import Address, Bank, Document, Line, Party, TaxGroup
from billpact.documents.xml import element
from billpact.errors import InvalidInput

CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
PREFIXES = {"cac": CAC, "cbc": CBC}
ROOTS = {"invoice": ("Invoice", "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2", "380"),
         "credit_note": ("CreditNote", "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2", "381")}
CAP_ADJUSTMENT = "Not-to-exceed cap adjustment"
SEPA_CREDIT_TRANSFER = "58"
CREDIT_TRANSFER = "30"
VAT = "VAT"
TAX_REGISTRATION = "TAX"   # BT-32, the seller's tax registration other than VAT (a US EIN, …)
MAX_DIGITS = 2             # BR-DEC-*: amounts carry at most two decimals
REQUIRED = "required for an e-invoice"
PEPPOL = "required for Peppol"
GERMAN_PAIR = "required by the German Peppol rules when seller and buyer are both in Germany"
GLN = "0088"
# The Peppol Electronic Address Scheme code list (EAS) of BIS Billing 3.0.21 (PEPPOL-EN16931-CL008). The
# import format also accepts EM (e-mail) and a few other EN 16931 codes, which Peppol does not route.
_EAS_CODES = """
    0002 0007 0009 0060 0088 0096 0097 0106 0130 0135 0142 0151 0183 0184 0188 0190 0191 0192 0195 0196 0198
    0199 0200 0201 0204 0208 0209 0210 0211 0216 0218 0221 0225 0230 0235 0240 0242 0244 0245 0246 0248 9910
    9913 9914 9915 9918 9919 9920 9922 9923 9924 9925 9926 9927 9928 9929 9930 9931 9932 9933 9934 9935 9936
    9937 9938 9939 9940 9941 9942 9943 9944 9945 9946 9947 9948 9949 9950 9951 9952 9953 9957 9959"""
PEPPOL_EAS = frozenset(_EAS_CODES.split())


# ---------------------------------------------------------------- refusals


def _buyer_path(document: Document) -> str:
    return f"clients[{document.buyer.code}]" if document.buyer.code else "client"


def _country(party: Party) -> str | None:
    return party.address.country if party.address else None


def is_gln(text: str) -> bool:
    """A GS1 Global Location Number: 13 digits, the last a mod-10 check digit (PEPPOL-COMMON-R040)."""
    if len(text) != 13 or not text.isascii() or not text.isdigit():
        return False
    weighted = sum(int(digit) * (3 if i % 2 == 0 else 1) for i, digit in enumerate(reversed(text[:-1])))
    return (10 - weighted % 10) % 10 == int(text[-1])


def _endpoint_problems(party: Party, path: str, what: str) -> list[str]:
    """The electronic address Peppol routes to (PEPPOL-EN16931-R010/R020): a scheme of its code list and,
    for the common GLN, a well-formed number, so a typo is caught here rather than by the access point."""
    if not (party.endpoint_scheme and party.endpoint_id):
        return [f"{path}.endpoint: {PEPPOL} (the {what}'s electronic address: scheme and id, "
                "e.g. 0088 and a 13-digit GLN, or 9930 and a German VAT id)"]
    if party.endpoint_scheme not in PEPPOL_EAS:
        return [f"{path}.endpoint.scheme: {party.endpoint_scheme} is not a Peppol electronic address scheme "
                "(EAS code list; e-mail, EM, is not routed): use e.g. 0088 with a GLN"]
    if party.endpoint_scheme == GLN and not is_gln(party.endpoint_id):
        return [f"{path}.endpoint.id: {party.endpoint_id} is not a GLN (13 digits with a valid check digit)"]
    return []


def _identity_problems(party: Party, path: str, what: str) -> list[str]:
    """Name and postal address with country (BR-06 … BR-11), and the electronic address."""
    found = []
    if not party.name:
        found.append(f"{path}.name: {REQUIRED}")
    if not _country(party):
        found.append(f"{path}.address.country: {REQUIRED} (import the {what}'s address)")
    return found + _endpoint_problems(party, path, what)


def _seller_tax_problems(document: Document, categories: set[str]) -> list[str]:
    """The seller's tax identity: a VAT id or tax registration for taxed, zero-rated or exempt lines
    (BR-S/Z/E-02), a VAT id proper for intra-community and export supplies (BR-IC-02, BR-G-02), and an
    identifier a buyer can match (BR-CO-26), which outside the scope of VAT cannot be the VAT id (BR-O-02)."""
    seller = document.seller
    found = []
    if categories - {"O"} and not (seller.vat_id or seller.tax_id):
        found.append(f"organization.vat_id: {REQUIRED} with tax category {', '.join(sorted(categories))} "
                     "(or organization.tax_id)")
    elif categories & {"K", "G"} and not seller.vat_id:
        found.append(f"organization.vat_id: {REQUIRED} for intra-community supplies and exports (K, G)")
    shown_vat = seller.vat_id if "O" not in categories else None
    if not (shown_vat or seller.legal_id):
        found.append(f"organization.legal_id: {REQUIRED} without a VAT id the buyer can match (BR-CO-26)")
    return found


def _buyer_tax_problems(document: Document, categories: set[str]) -> list[str]:
    """Reverse charge names the buyer's VAT id or legal id (BR-AE-02), an intra-community supply its VAT
    id (BR-IC-02); and the tax breakdown must carry the invoice's tax (BR-CO-14), which a client taxed at
    a rate but filed under a zero category would break."""
    buyer, path = document.buyer, _buyer_path(document)
    found = []
    if "AE" in categories and not (buyer.vat_id or buyer.legal_id):
        found.append(f"{path}.vat_id: {REQUIRED} under reverse charge (AE) (or {path}.legal_id)")
    if "K" in categories and not buyer.vat_id:
        found.append(f"{path}.vat_id: {REQUIRED} for an intra-community supply (K)")
    if sum((group.tax for group in document.taxes), Decimal(0)) != document.tax:
        found.append(f"{path}.tax_category: {', '.join(sorted(categories))} carries no tax, but the invoice "
                     f"has {document.tax} of tax: give the client tax_rate 0 or a standard-rated category")
    return found


def _german_problems(document: Document) -> list[str]:
    """The Peppol DE-R rules, which apply when seller and buyer are both in Germany: cities, post codes,
    a seller contact with telephone and e-mail (BG-6) and payment instructions (BG-16)."""
    seller, buyer, path = document.seller, document.buyer, _buyer_path(document)
    if not (_country(seller) == "DE" and _country(buyer) == "DE"):
        return []
    wanted = [("organization.address.city", seller.address and seller.address.city),
              ("organization.address.postcode", seller.address and seller.address.postcode),
              ("organization.phone", seller.phone), ("organization.email", seller.email),
              (f"{path}.address.city", buyer.address and buyer.address.city),
              (f"{path}.address.postcode", buyer.address and buyer.address.postcode),
              ("organization.bank", _account(document.bank))]
    return [f"{where}: {GERMAN_PAIR}" for where, given in wanted if not given]


def problems(document: Document) -> list[str]:
    """Every reason the document cannot be a Peppol BIS 3 e-invoice, each with the path that fixes it."""
    categories = {line.tax_category for line in document.lines}
    found = []
    if document.number is None:
        found.append("number: a draft has no number: issue it first")
    if document.digits > MAX_DIGITS:
        found.append(f"contracts[{document.contract}].currency: {document.currency} has {document.digits} "
                     f"decimals; e-invoice amounts carry at most {MAX_DIGITS} (BR-DEC), so it cannot be "
                     "stated exactly and is not rounded")
    found += _identity_problems(document.seller, "organization", "organization")
    found += _identity_problems(document.buyer, _buyer_path(document), "client")
    found += _seller_tax_problems(document, categories)
    found += _buyer_tax_problems(document, categories)
    found += _german_problems(document)
    return found


# ---------------------------------------------------------------- writing


@dataclass(frozen=True, slots=True)
class _Writer:
    """Builds cac:/cbc: elements and states amounts in the document's currency, exactly."""

    currency: str
    digits: int

    @staticmethod
    def el(parent: etree._Element, name: str, text: str | None = None, **attributes: str) -> etree._Element:
        return element(PREFIXES, parent, name, text, **attributes)

    def amount(self, parent: etree._Element, name: str, value: Decimal) -> etree._Element:
        """An amount with its currency; one that needs more digits than the currency has is a bug upstream,
        refused rather than rounded (the stored amounts are already in the currency's minor unit)."""
        exact = value.quantize(Decimal(1).scaleb(-self.digits))
        if exact != value:
            raise InvalidInput([f"{name}: {value} has more than {self.digits} decimals"], "e-invoice")
        return self.el(parent, name, f"{exact:f}", currencyID=self.currency)

    @staticmethod
    def number(value: Decimal) -> str:
        """A quantity, price or percent as written: no trailing zeros, no exponent."""
        text = f"{value.normalize():f}"
        return "0" if text == "-0" else text

    def date(self, parent: etree._Element, name: str, day: date) -> None:
        self.el(parent, name, day.isoformat())


def _note(document: Document) -> str | None:
    """One note at most (PEPPOL-EN16931-R002): a credit note's reason first, then the document's notes."""
    parts = ([f"Reason for credit: {document.reason}"] if document.reason else []) + list(document.notes)
    return "\n".join(parts) or None


def _buyer_reference(document: Document) -> str:
    """BT-10: the reference the client asked for, else its purchase order, else the contract code — Peppol
    needs a buyer reference or an order reference (PEPPOL-EN16931-R003), and the contract always exists."""
    return document.buyer_reference or document.purchase_order or document.contract


def _header(w: _Writer, root: etree._Element, document: Document) -> None:
    _name, _namespace, type_code = ROOTS[document.kind]
    w.el(root, "cbc:CustomizationID", CUSTOMIZATION)
    w.el(root, "cbc:ProfileID", PROFILE)
    w.el(root, "cbc:ID", document.number)
    w.date(root, "cbc:IssueDate", document.issue_date)
    if document.kind == "invoice" and document.due_date is not None:
        w.date(root, "cbc:DueDate", document.due_date)
    w.el(root, "cbc:InvoiceTypeCode" if document.kind == "invoice" else "cbc:CreditNoteTypeCode", type_code)
    note = _note(document)
    if note:
        w.el(root, "cbc:Note", note)
    w.el(root, "cbc:DocumentCurrencyCode", document.currency)
    w.el(root, "cbc:BuyerReference", _buyer_reference(document))


def _references(w: _Writer, root: etree._Element, document: Document) -> None:
    """Invoicing period (BG-14), purchase order (BT-13), the corrected invoice (BG-3), contract (BT-12)."""
    if document.period_start or document.period_end:
        period = w.el(root, "cac:InvoicePeriod")
        if document.period_start:
            w.date(period, "cbc:StartDate", document.period_start)
        if document.period_end:
            w.date(period, "cbc:EndDate", document.period_end)
    if document.purchase_order:
        w.el(w.el(root, "cac:OrderReference"), "cbc:ID", document.purchase_order)
    if document.corrects:
        invoice = w.el(w.el(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        w.el(invoice, "cbc:ID", document.corrects)
        if document.corrects_date:
            w.date(invoice, "cbc:IssueDate", document.corrects_date)
    w.el(w.el(root, "cac:ContractDocumentReference"), "cbc:ID", document.contract)


def _address(w: _Writer, parent: etree._Element, name: str, address: Address) -> None:
    """Street lines as StreetName, AdditionalStreetName and an AddressLine (BT-35 … BT-40)."""
    postal = w.el(parent, name)
    for field, line in zip(("cbc:StreetName", "cbc:AdditionalStreetName"), address.lines, strict=False):
        w.el(postal, field, line)
    if address.city:
        w.el(postal, "cbc:CityName", address.city)
    if address.postcode:
        w.el(postal, "cbc:PostalZone", address.postcode)
    if address.region:
        w.el(postal, "cbc:CountrySubentity", address.region)
    if len(address.lines) > 2:
        w.el(w.el(postal, "cac:AddressLine"), "cbc:Line", address.lines[2])
    w.el(w.el(postal, "cac:Country"), "cbc:IdentificationCode", address.country)


def _tax_scheme(w: _Writer, parent: etree._Element, company_id: str, scheme: str) -> None:
    holder = w.el(parent, "cac:PartyTaxScheme")
    w.el(holder, "cbc:CompanyID", company_id)
    w.el(w.el(holder, "cac:TaxScheme"), "cbc:ID", scheme)


def _contact(w: _Writer, parent: etree._Element, party: Party) -> None:
    if not (party.phone or party.email):
        return
    contact = w.el(parent, "cac:Contact")
    w.el(contact, "cbc:Name", party.name)
    if party.phone:
        w.el(contact, "cbc:Telephone", party.phone)
    if party.email:
        w.el(contact, "cbc:ElectronicMail", party.email)


def _party(w: _Writer, parent: etree._Element, name: str, party: Party, *, seller: bool, show_vat: bool) -> None:
    """BG-4 / BG-7. The VAT id is left out outside the scope of VAT (BR-O-02); the tax registration
    (BT-32) exists for the seller only."""
    node = w.el(w.el(parent, name), "cac:Party")
    w.el(node, "cbc:EndpointID", party.endpoint_id, schemeID=party.endpoint_scheme or "")
    if party.address:
        _address(w, node, "cac:PostalAddress", party.address)
    if party.vat_id and show_vat:
        _tax_scheme(w, node, party.vat_id, VAT)
    if party.tax_id and seller:
        _tax_scheme(w, node, party.tax_id, TAX_REGISTRATION)
    legal = w.el(node, "cac:PartyLegalEntity")
    w.el(legal, "cbc:RegistrationName", party.name)
    if party.legal_id:
        w.el(legal, "cbc:CompanyID", party.legal_id)
    _contact(w, node, party)


def _parties(w: _Writer, root: etree._Element, document: Document) -> None:
    show_vat = all(line.tax_category != "O" for line in document.lines)
    _party(w, root, "cac:AccountingSupplierParty", document.seller, seller=True, show_vat=show_vat)
    _party(w, root, "cac:AccountingCustomerParty", document.buyer, seller=False, show_vat=show_vat)


def _delivery(w: _Writer, root: etree._Element, document: Document) -> None:
    """An intra-community supply states where it was delivered (BR-IC-12): the buyer's country."""
    country = _country(document.buyer)
    if country and any(line.tax_category == "K" for line in document.lines):
        location = w.el(w.el(root, "cac:Delivery"), "cac:DeliveryLocation")
        w.el(w.el(w.el(location, "cac:Address"), "cac:Country"), "cbc:IdentificationCode", country)


def _account(bank: Bank | None) -> str | None:
    return (bank.iban or bank.account_number) if bank else None


def _payment_means(w: _Writer, root: etree._Element, document: Document) -> None:
    """SEPA credit transfer (58) to an IBAN in euros, else a credit transfer (30), to the organization's
    account (BG-16/17); without an account there is none (BR-61 wants one with a transfer). Credit notes
    carry it too, as the official Peppol example does and the German rules require (DE-R-001)."""
    bank, account = document.bank, _account(document.bank)
    if bank is None or account is None:
        return
    means = w.el(root, "cac:PaymentMeans")
    w.el(means, "cbc:PaymentMeansCode",
         SEPA_CREDIT_TRANSFER if bank.iban and document.currency == "EUR" else CREDIT_TRANSFER)
    w.el(means, "cbc:PaymentID", document.number)
    payee = w.el(means, "cac:PayeeFinancialAccount")
    w.el(payee, "cbc:ID", account)
    if bank.account_name:
        w.el(payee, "cbc:Name", bank.account_name)
    branch = bank.bic or bank.routing_number
    if branch:
        w.el(w.el(payee, "cac:FinancialInstitutionBranch"), "cbc:ID", branch)


def _payment_terms(w: _Writer, root: etree._Element, document: Document) -> None:
    w.el(w.el(root, "cac:PaymentTerms"), "cbc:Note", payment_terms_text(document))


def _tax_category(w: _Writer, parent: etree._Element, name: str, category: str, percent: Decimal | None,
                  reason: str | None = None) -> None:
    """A VAT category: O has no rate (BR-O-05 … 09), the others state theirs, zero included."""
    node = w.el(parent, name)
    w.el(node, "cbc:ID", category)
    if category != "O":
        w.el(node, "cbc:Percent", w.number(percent if percent is not None else Decimal(0)))
    if reason:
        w.el(node, "cbc:TaxExemptionReason", reason)
    w.el(w.el(node, "cac:TaxScheme"), "cbc:ID", VAT)


def _allowance(w: _Writer, root: etree._Element, line: Line) -> None:
    """A negative line as a document-level allowance (BG-20) in the line's category: its amount leaves the
    line total (BT-106) and enters the allowance total (BT-107); the category's taxable amount nets both."""
    allowance = w.el(root, "cac:AllowanceCharge")
    w.el(allowance, "cbc:ChargeIndicator", "false")
    reason = CAP_ADJUSTMENT if line.kind == "cap_adjustment" else (line.description or line.kind)
    w.el(allowance, "cbc:AllowanceChargeReason", reason)
    w.amount(allowance, "cbc:Amount", -line.amount)
    _tax_category(w, allowance, "cac:TaxCategory", line.tax_category, line.tax_percent)


def _tax_subtotal(w: _Writer, parent: etree._Element, group: TaxGroup) -> None:
    subtotal = w.el(parent, "cac:TaxSubtotal")
    w.amount(subtotal, "cbc:TaxableAmount", group.taxable_amount)
    w.amount(subtotal, "cbc:TaxAmount", group.tax)
    _tax_category(w, subtotal, "cac:TaxCategory", group.category, group.percent, group.exemption_reason)


def _tax_total(w: _Writer, root: etree._Element, document: Document) -> None:
    total = w.el(root, "cac:TaxTotal")
    w.amount(total, "cbc:TaxAmount", document.tax)
    for group in document.taxes:
        _tax_subtotal(w, total, group)


def _monetary_total(w: _Writer, root: etree._Element, document: Document) -> None:
    """BG-22. The amount due is the full total: retainage is said in the payment terms, not paid (BT-113)."""
    found = totals(document)
    total = w.el(root, "cac:LegalMonetaryTotal")
    w.amount(total, "cbc:LineExtensionAmount", found.lines)
    w.amount(total, "cbc:TaxExclusiveAmount", found.basis)
    w.amount(total, "cbc:TaxInclusiveAmount", found.grand)
    if found.allowances:
        w.amount(total, "cbc:AllowanceTotalAmount", found.allowances)
    w.amount(total, "cbc:PayableAmount", found.grand)


def _line(w: _Writer, root: etree._Element, document: Document, line: Line) -> None:
    """BG-25. Quantity × price = amount already (data.py); a negative price would only come with a
    negative quantity, so both signs flip and the price stays positive (BR-27)."""
    quantity, price = (-line.quantity, -line.unit_price) if line.unit_price < 0 else (line.quantity, line.unit_price)
    invoice = document.kind == "invoice"
    node = w.el(root, "cac:InvoiceLine" if invoice else "cac:CreditNoteLine")
    w.el(node, "cbc:ID", str(line.position))
    w.el(node, "cbc:InvoicedQuantity" if invoice else "cbc:CreditedQuantity", w.number(quantity), unitCode=line.unit)
    w.amount(node, "cbc:LineExtensionAmount", line.amount)
    item = w.el(node, "cac:Item")
    w.el(item, "cbc:Name", line.description or line.kind)
    _tax_category(w, item, "cac:ClassifiedTaxCategory", line.tax_category, line.tax_percent)
    w.el(w.el(node, "cac:Price"), "cbc:PriceAmount", w.number(price), currencyID=document.currency)


# ---------------------------------------------------------------- the document


def to_ubl(document: Document) -> bytes:
    """The Peppol BIS Billing 3.0 UBL of an issued invoice (Invoice) or credit note (CreditNote), UTF-8 with
    declaration; InvalidInput lists everything that keeps it from being one, before anything is built."""
    found = problems(document)
    if found:
        raise InvalidInput(found, "e-invoice")
    w = _Writer(document.currency, document.digits)
    name, namespace, _type_code = ROOTS[document.kind]
    root = etree.Element(f"{{{namespace}}}{name}", nsmap={None: namespace, "cac": CAC, "cbc": CBC})
    _header(w, root, document)
    _references(w, root, document)
    _parties(w, root, document)
    _delivery(w, root, document)
    _payment_means(w, root, document)
    _payment_terms(w, root, document)
    for line in document.lines:
        if line.amount < 0:
            _allowance(w, root, line)
    _tax_total(w, root, document)
    _monetary_total(w, root, document)
    for line in document.lines:
        if line.amount >= 0:
            _line(w, root, document, line)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
