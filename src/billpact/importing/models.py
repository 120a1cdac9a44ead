"""Pydantic models that mirror the import file (spec §2) key for key.

They check the shape of each record (types, required keys, unknown keys,
positivity, 0..1 fractions) so that every problem gets a path; rules that need
more than one record, or what is already stored, live in `validate.py`.
The same models publish the JSON Schema (`billpact schema`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from billpact.parties.checks import compact_iban, is_country, is_iban

Id = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
# Amounts, rates and hours are stored exactly to 4 decimal places, fractions to 6 (db/base.py).
# The columns are 64-bit integers of 10^-4 units: a larger number would crash the insert, so it is refused.
MAX_AMOUNT = Decimal("999999999999.9999")
Positive = Annotated[Decimal, Field(gt=0, le=MAX_AMOUNT, decimal_places=4)]
NonNegative = Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, decimal_places=4)]
Fraction = Annotated[Decimal, Field(ge=0, le=1, decimal_places=6)]
Kind = Literal["time", "expense", "fixed", "milestone", "recurring", "progress", "resale"]
PaymentTerms = Annotated[str, StringConstraints(pattern=r"^(net\d{1,3}|eom|eom\d{1,3}|due_on_receipt)$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Record(BaseModel):
    """Base of every record: unknown keys are an error.

    YAML reads `7.5` as a float; pydantic turns a float into a Decimal through its
    shortest repr ("7.5"), which is the number as written, so no binary error enters.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


def _country(code: str) -> str:
    if not is_country(code):
        raise ValueError(f"{code!r} is not an ISO 3166-1 country code (two letters, e.g. US, DE, GB)")
    return code


def _iban(text: str) -> str:
    if not is_iban(text):
        raise ValueError("not a valid IBAN (country, check digits and account number; the check digits fail)")
    return compact_iban(text)


Text = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), AfterValidator(_country)]


class Address(Record):
    """A postal address, as e-invoices carry it (EN 16931 BG-5 / BG-8)."""

    lines: list[Text] = Field(default_factory=list, max_length=3)   # street, building, floor …
    city: Text | None = None
    postcode: Annotated[str, StringConstraints(min_length=1, max_length=20, strip_whitespace=True)] | None = None
    region: Text | None = None
    country: Country


class Endpoint(Record):
    """An electronic address for e-invoices (Peppol BT-34 / BT-49): a scheme from the EAS code list
    (`0088` GLN, `0192` Norwegian org. no., `9930` German VAT, `EM` e-mail, …) and the id in it."""

    scheme: Annotated[str, StringConstraints(pattern=r"^([0-9]{4}|EM|AN|AQ|AS|AU)$")]
    id: Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]


class Bank(Record):
    """Where the client pays: printed on the invoice and put in e-invoices (BG-17)."""

    iban: Annotated[str, AfterValidator(_iban)] | None = None
    bic: Annotated[str, StringConstraints(pattern=r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")] | None = None
    account_name: Text | None = None
    bank_name: Text | None = None
    account_number: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    routing_number: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None


VatId = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}[A-Za-z0-9+*.\- ]{2,30}$")]


class Party(Record):
    """What invoices say about who sends and who receives them (optional; billpact's extension of
    the spec's format: e-invoices need these, a plain PDF invoice prints what is there)."""

    address: Address | None = None
    vat_id: VatId | None = None                # with its country prefix: DE123456789
    tax_id: Text | None = None                 # another tax registration (a US EIN, …)
    legal_id: Text | None = None               # company registration number
    endpoint: Endpoint | None = None
    phone: Text | None = None


class Organization(Party):
    name: str
    currency: Currency = "USD"
    invoice_series: str = "INV-{seq:06d}"
    credit_note_series: str = "CN-{seq:06d}"
    email: str | None = None
    bank: Bank | None = None
    payment_note: Annotated[str, StringConstraints(max_length=500)] | None = None   # printed under the bank


TaxCategory = Literal["S", "Z", "E", "AE", "K", "G", "O"]


class Client(Party):
    id: Id
    name: str
    currency: Currency
    payment_terms: PaymentTerms = "net30"
    tax_rate: Fraction = Decimal("0")
    email: str | None = None
    # How its tax reads on e-invoices (EN 16931 VAT category): S standard (the default when tax_rate > 0),
    # Z zero rated, E exempt (the default for untaxed lines), AE reverse charge, K intra-community,
    # G export, O outside the scope of VAT. E, AE, K, G and O carry the reason the law gives.
    tax_category: TaxCategory | None = None
    tax_exemption_reason: Text | None = None


class NotToExceed(Record):
    amount: NonNegative
    kinds: list[Kind] = Field(default_factory=lambda: list[Kind](["time", "expense"]))
    excess: Literal["hold", "write_off"] = "hold"


class Retainage(Record):
    rate: Fraction
    kinds: list[Kind] = Field(
        default_factory=lambda: list[Kind](["time", "fixed", "milestone", "recurring", "progress"]))


class TimeTerm(Record):
    kind: Literal["time"]
    id: Id | None = None
    rates: dict[str, Positive]
    overtime_multiplier: Positive | None = None
    taxable: bool = True


class ExpenseTerm(Record):
    kind: Literal["expense"]
    id: Id | None = None
    markup: NonNegative = Decimal("0")
    categories: list[str] | None = None
    taxable: bool = True


class Installment(Record):
    date: dt.date
    amount: Positive | None = None
    percent: Fraction | None = None


class FixedTerm(Record):
    kind: Literal["fixed"]
    id: Id | None = None
    name: str | None = None
    amount: Positive
    schedule: list[Installment] = Field(min_length=1)
    taxable: bool = True
    # How revenue is recognized over time (billpact extension, docs/reports.md): by days, by cost against
    # budget, or by output (progress or milestones). Billing ignores it.
    recognition: Literal["straight_line", "cost_to_cost", "output"] | None = None


class MilestoneTerm(Record):
    kind: Literal["milestone"]
    id: Id
    name: str | None = None
    amount: Positive | None = None
    percent: Fraction | None = None
    bill_on: Literal["accepted", "completed"] = "accepted"
    taxable: bool = True


class RecurringTerm(Record):
    kind: Literal["recurring"]
    id: Id | None = None
    name: str | None = None
    amount: Positive
    timing: Literal["advance", "arrears"] = "arrears"
    taxable: bool = True


class ProgressTerm(Record):
    kind: Literal["progress"]
    id: Id | None = None
    items: dict[str, Positive] = Field(min_length=1)
    taxable: bool = True


class ResaleTerm(Record):
    kind: Literal["resale"]
    id: Id | None = None
    markup: NonNegative = Decimal("0")
    taxable: bool = True


Term = Annotated[
    TimeTerm | ExpenseTerm | FixedTerm | MilestoneTerm | RecurringTerm | ProgressTerm | ResaleTerm,
    Field(discriminator="kind"),
]


class Contract(Record):
    id: Id
    client: Id
    title: str = ""
    currency: Currency | None = None
    start: dt.date
    end: dt.date | None = None
    cycle: Literal["monthly", "quarterly", "weekly"] = "monthly"
    payment_terms: PaymentTerms | None = None
    value: Positive | None = None
    not_to_exceed: NotToExceed | None = None
    retainage: Retainage | None = None
    purchase_order: Text | None = None      # the client's PO number, quoted on every invoice
    buyer_reference: Text | None = None     # the reference the client asks invoices to carry (Peppol BT-10)
    terms: list[Term] = Field(min_length=1)


class Amendment(Record):
    contract: Id
    effective: dt.date
    add: list[Term] = Field(default_factory=list)
    remove: list[Id] = Field(default_factory=list)
    set: dict[str, Any] = Field(default_factory=dict)
    note: str | None = None


class TimeEntry(Record):
    id: Id | None = None
    contract: Id
    date: dt.date
    person: Id
    role: Id
    hours: Positive
    overtime: bool = False
    note: str | None = None


class Expense(Record):
    id: Id | None = None
    contract: Id
    date: dt.date
    category: Id
    amount: Positive
    billable: bool = True
    note: str | None = None


class MilestoneEvent(Record):
    id: Id | None = None
    contract: Id
    milestone: Id
    completed: dt.date | None = None
    accepted: dt.date | None = None


class ProgressReport(Record):
    id: Id | None = None
    contract: Id
    date: dt.date
    item: Id
    percent: Fraction


class Resale(Record):
    id: Id | None = None
    contract: Id
    date: dt.date
    item: str
    quantity: Positive
    unit_price: Positive | None = None
    unit_cost: NonNegative | None = None


class RetainageRelease(Record):
    id: Id | None = None
    contract: Id
    date: dt.date
    percent: Fraction | None = None
    amount: Positive | None = None


class Payment(Record):
    id: Id | None = None
    client: Id
    date: dt.date
    amount: Positive
    currency: Currency | None = None
    invoice: str | None = None
    reference: str | None = None


class Budget(Record):
    contract: Id
    labor_hours: NonNegative | None = None
    labor_cost: NonNegative | None = None
    expenses: NonNegative | None = None


class CostRate(Record):
    person: Id
    rate: NonNegative
    effective: dt.date | None = None


class ImportFile(Record):
    """One import file: any subset of the top-level keys, loaded in one transaction."""

    organization: Organization | None = None
    clients: list[Client] = Field(default_factory=list)
    contracts: list[Contract] = Field(default_factory=list)
    amendments: list[Amendment] = Field(default_factory=list)
    time: list[TimeEntry] = Field(default_factory=list)
    expenses: list[Expense] = Field(default_factory=list)
    milestones: list[MilestoneEvent] = Field(default_factory=list)
    progress: list[ProgressReport] = Field(default_factory=list)
    resales: list[Resale] = Field(default_factory=list)
    retainage_releases: list[RetainageRelease] = Field(default_factory=list)
    payments: list[Payment] = Field(default_factory=list)
    budgets: list[Budget] = Field(default_factory=list)
    cost_rates: list[CostRate] = Field(default_factory=list)
