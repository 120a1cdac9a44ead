"""The credit rules as arithmetic: parts add up, limits hold, tax and retainage follow the invoice."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from billpact.core import credit
from billpact.core.money import Currency

USD = Currency.of("USD")
cents = st.integers(1, 10_000_000).map(lambda n: Decimal(n) / 100)


@given(total=cents, weights=st.lists(cents, min_size=1, max_size=8))
def test_allocate_adds_up_to_the_cent_and_follows_the_weights(total: Decimal, weights: list[Decimal]) -> None:
    parts = credit.allocate(total, weights, USD)
    assert sum(parts) == total
    whole = sum(weights)
    assert all(abs(p - total * w / whole) < Decimal("0.01") for p, w in zip(parts, weights, strict=True))


def invoice(amounts: list[Decimal], taxable: list[bool], rate: Decimal) -> credit.Invoice:
    lines = tuple(credit.InvoiceLine(i, "time", a, t, a) for i, (a, t) in enumerate(zip(amounts, taxable,
                                                                                         strict=True), 1))
    tax = USD.quantize(sum((a for a, t in zip(amounts, taxable, strict=True) if t), Decimal(0)) * rate)
    return credit.Invoice(lines, tax, USD.quantize(sum(amounts) * Decimal("0.1")))


def after(inv: credit.Invoice, c: credit.Credit) -> credit.Invoice:
    """The invoice as the next credit note sees it."""
    by = {line.position: line for line in c.lines}
    lines = tuple(credit.InvoiceLine(
        line.position, line.kind, line.amount, line.taxable, line.retainable,
        line.credited + (by[line.position].amount if line.position in by else 0),
        line.credited_retainable + (by[line.position].retainable if line.position in by else 0))
        for line in inv.lines)
    return credit.Invoice(lines, inv.tax, inv.retainage_held, inv.credited_tax + c.tax,
                          inv.credited_retainage + c.retainage)


@given(data=st.data(), amounts=st.lists(cents, min_size=1, max_size=6), rate=st.sampled_from(
    [Decimal("0.07"), Decimal("0.2"), Decimal("0.0825")]))
def test_credits_in_any_order_and_size_give_back_exactly_the_tax_and_retainage(
        data: st.DataObject, amounts: list[Decimal], rate: Decimal) -> None:
    taxable = data.draw(st.lists(st.booleans(), min_size=len(amounts), max_size=len(amounts)))
    inv = invoice(amounts, taxable, rate)
    tax = retainage = Decimal(0)
    for _ in range(20):
        open_lines = [line for line in inv.lines if line.remaining > 0]
        if not open_lines:
            break
        line = data.draw(st.sampled_from(open_lines))
        amount = data.draw(st.one_of(st.none(), st.integers(1, int(line.remaining * 100)).map(
            lambda n: Decimal(n) / 100)))
        planned, problems = credit.plan(inv, [(line.position, amount)], False, USD)
        assert planned is not None, problems
        tax += planned.tax
        retainage += planned.retainage
        assert tax <= inv.tax and retainage <= inv.retainage_held
        inv = after(inv, planned)
    rest, _ = credit.plan(inv, [(line.position, None) for line in inv.lines if line.remaining > 0], False, USD)
    if rest is not None:
        tax, retainage = tax + rest.tax, retainage + rest.retainage
    assert (tax, retainage) == (inv.tax, inv.retainage_held)


def test_over_crediting_is_refused_with_the_amount_that_remains() -> None:
    inv = invoice([Decimal("100.00"), Decimal("50.00")], [True, False], Decimal("0.1"))
    planned, problems = credit.plan(inv, [(1, Decimal("100.01"))], False, USD)
    assert planned is None and problems == ["line 1: 100.01 asked, only 100.00 remains creditable"]
    cap_cut = credit.InvoiceLine(3, "cap_adjustment", Decimal("-30.00"), True, Decimal(0), cut="hold")
    cut = credit.Invoice((*inv.lines, cap_cut), inv.tax, inv.retainage_held)
    planned, problems = credit.plan(cut, [(1, None), (2, None)], False, USD)
    assert planned is None and "only 120.00 of the invoice's subtotal remains creditable" in problems[0]
    assert "cannot be credited" in credit.plan(cut, [(3, None)], False, USD)[1][0]
    full, _ = credit.plan_full(cut, False, USD)              # --full: all the cut invoice billed, spread
    assert full is not None and sum(line.amount for line in full.lines) == Decimal("120.00")
    assert "cap cut" in credit.plan_full(cut, True, USD)[1][0]
    assert "cap cut" in credit.plan(cut, [(2, None)], True, USD)[1][0]
