"""Credit notes as arithmetic: what may be credited, and the tax and retainage that go with it.

The rules (docs/billing-rules.md, "Credit notes"):

- A line is credited at most up to what remains of it (its amount less earlier
  credits), and an invoice at most up to its subtotal (an invoice cut by a cap
  cannot give back more than it billed). Cap cuts and retainage releases are
  not credited: they are not billing of their own.
- Tax and retainage follow the original invoice *cumulatively*: after a credit,
  the tax credited so far is round(invoice tax × taxable credited so far /
  taxable subtotal), and likewise retainage with the retainable amounts. Each
  credit note takes the difference, so partial credits never drift by a cent
  and crediting everything gives back exactly the invoice's tax and retainage.
- Units behind a line are released (billable again) only when the whole line
  is credited at once, on an invoice without a cap cut; a partial amount is a
  price concession, written off.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from billpact.core.money import ZERO, Currency

NOT_CREDITABLE = {"cap_adjustment": "a cap adjustment", "retainage_release": "a retainage release"}
NO_RELEASE = ("cap_adjustment",)  # a released held amount has no units of its own to bill again


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    position: int
    kind: str
    amount: Decimal
    taxable: bool
    retainable: Decimal
    credited: Decimal = ZERO             # by earlier credit notes
    credited_retainable: Decimal = ZERO
    cut: str | None = None               # cap lines: hold | write_off | release

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.credited


@dataclass(frozen=True, slots=True)
class Invoice:
    lines: tuple[InvoiceLine, ...]
    tax: Decimal
    retainage_held: Decimal
    credited_tax: Decimal = ZERO         # by earlier credit notes
    credited_retainage: Decimal = ZERO

    @property
    def subtotal(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def credited(self) -> Decimal:
        return sum((line.credited for line in self.lines), ZERO)

    @property
    def cut_by_cap(self) -> bool:
        return any(line.kind == "cap_adjustment" and line.amount < 0 for line in self.lines)


@dataclass(frozen=True, slots=True)
class CreditLine:
    position: int
    amount: Decimal
    retainable: Decimal
    release: bool


@dataclass(frozen=True, slots=True)
class Credit:
    lines: tuple[CreditLine, ...]
    subtotal: Decimal
    tax: Decimal
    retainage: Decimal

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax

    @property
    def amount_due(self) -> Decimal:
        return self.total - self.retainage


def creditable(line: InvoiceLine) -> str | None:
    """Why a line cannot be credited, or None."""
    if line.kind in NOT_CREDITABLE and not (line.kind == "cap_adjustment" and line.amount > 0):
        return f"line {line.position} is {NOT_CREDITABLE[line.kind]}: it cannot be credited on its own"
    if line.remaining <= 0:
        return f"line {line.position} is already fully credited"
    return None


def allocate(total: Decimal, weights: list[Decimal], currency: Currency) -> list[Decimal]:
    """Split `total` in proportion to `weights`, to the minor unit, parts adding up exactly
    (largest remainder; ties to the earlier part)."""
    whole = sum(weights, ZERO)
    if whole <= 0:
        return [ZERO for _ in weights]
    exact = [total * w / whole for w in weights]
    parts = [(e / currency.quantum).to_integral_value(rounding=ROUND_FLOOR) * currency.quantum for e in exact]
    left = int((total - sum(parts, ZERO)) / currency.quantum)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += currency.quantum
    return parts


def plan(invoice: Invoice, asks: list[tuple[int, Decimal | None]], release: bool, currency: Currency
         ) -> tuple[Credit | None, list[str]]:
    """The credit for `asks` — (line position, amount or None for all that remains) — or the problems."""
    problems: list[str] = []
    by_position = {line.position: line for line in invoice.lines}
    chosen: list[tuple[InvoiceLine, Decimal]] = []
    seen: set[int] = set()
    for position, amount in asks:
        line = by_position.get(position)
        if line is None:
            problems.append(f"--line {position}: the invoice has lines 1 to {len(invoice.lines)}")
            continue
        if position in seen:
            problems.append(f"--line {position}: named twice")
            continue
        seen.add(position)
        why = creditable(line)
        if why:
            problems.append(why)
            continue
        asked = line.remaining if amount is None else amount
        if asked <= 0 or asked != currency.quantize(asked):
            problems.append(f"line {position}: {asked} is not a positive amount in {currency.code} minor units")
        elif asked > line.remaining:
            problems.append(f"line {position}: {currency.format(asked)} asked, "
                            f"only {currency.format(line.remaining)} remains creditable")
        elif release and (asked != line.amount or line.credited):
            problems.append(f"line {position}: only a whole, uncredited line can be released to bill again "
                            f"({currency.format(asked)} of {currency.format(line.amount)}); "
                            "credit it without --release (written off)")
        elif release and line.kind in NO_RELEASE:
            problems.append(f"line {position}: a released held amount has no units to bill again; "
                            "credit it without --release")
        else:
            chosen.append((line, asked))
    if release and invoice.cut_by_cap and chosen:
        problems.append("the invoice has a cap cut: its units cannot be released line by line "
                        "(the cut would be billed twice); credit without --release (written off)")
    subtotal = sum((amount for _line, amount in chosen), ZERO)
    room = invoice.subtotal - invoice.credited
    if not problems and subtotal > room:
        problems.append(f"{currency.format(subtotal)} asked, but only {currency.format(room)} of the invoice's "
                        "subtotal remains creditable")
    if problems or not chosen:
        return None, problems or ["nothing to credit"]
    return _credit(invoice, chosen, release, currency), []


def plan_full(invoice: Invoice, release: bool, currency: Currency) -> tuple[Credit | None, list[str]]:
    """`--full`: every creditable line, whole. On an invoice a cap cut reduced, the lines add up to more
    than it billed: then "full" is what remains of its subtotal, spread over the lines as `--amount`
    spreads (written off; a release of such an invoice is refused by `plan`, as the cut would be billed
    twice)."""
    open_lines = [line for line in invoice.lines if creditable(line) is None]
    room = invoice.subtotal - invoice.credited
    if not release and open_lines and sum((line.remaining for line in open_lines), ZERO) > room:
        if room <= 0:
            return None, ["the invoice is already fully credited"]
        return plan_amount(invoice, room, currency)
    return plan(invoice, [(line.position, None) for line in open_lines], release, currency)


def plan_amount(invoice: Invoice, amount: Decimal, currency: Currency) -> tuple[Credit | None, list[str]]:
    """`--amount X` alone: X of the net amount, spread over the creditable lines in proportion to what
    remains of each, written off."""
    if amount <= 0 or amount != currency.quantize(amount):
        return None, [f"--amount: {amount} is not a positive amount in {currency.code} minor units"]
    open_lines = [line for line in invoice.lines if creditable(line) is None]
    room = min(invoice.subtotal - invoice.credited, sum((line.remaining for line in open_lines), ZERO))
    if amount > room:
        return None, [f"--amount: {currency.format(amount)} asked, only {currency.format(max(room, ZERO))} "
                      "remains creditable on the invoice"]
    parts = allocate(amount, [line.remaining for line in open_lines], currency)
    chosen = [(line, part) for line, part in zip(open_lines, parts, strict=True) if part > 0]
    return _credit(invoice, chosen, False, currency), []


def _credit(invoice: Invoice, chosen: list[tuple[InvoiceLine, Decimal]], release: bool,
            currency: Currency) -> Credit:
    lines = []
    for line, amount in chosen:
        so_far = _follow(line.retainable, line.amount, line.credited + amount, currency)
        lines.append(CreditLine(line.position, amount, so_far - line.credited_retainable, release))
    taxable = sum((line.amount for line in invoice.lines if line.taxable), ZERO)
    taxable_before = sum((line.credited for line in invoice.lines if line.taxable), ZERO)
    taxable_now = sum((amount for line, amount in chosen if line.taxable), ZERO)
    tax = _follow(invoice.tax, taxable, taxable_before + taxable_now, currency) - invoice.credited_tax
    retainable = sum((line.retainable for line in invoice.lines), ZERO)
    retainable_before = sum((line.credited_retainable for line in invoice.lines), ZERO)
    retainable_now = sum((c.retainable for c in lines), ZERO)
    retainage = (_follow(invoice.retainage_held, retainable, retainable_before + retainable_now, currency)
                 - invoice.credited_retainage)
    return Credit(tuple(lines), sum((c.amount for c in lines), ZERO), max(tax, ZERO), max(retainage, ZERO))


def _follow(amount: Decimal, whole: Decimal, part: Decimal, currency: Currency) -> Decimal:
    """round(amount × part / whole), with part at most whole: the share of `amount` credited so far."""
    if whole <= 0:
        return ZERO
    return currency.quantize(amount * min(part, whole) / whole) + 0
