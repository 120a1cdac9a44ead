"""How pages show amounts and counts."""

from __future__ import annotations

from decimal import Decimal

from billpact.web.rendering import money, plural


def test_amounts_keep_their_digits_group_thousands_and_name_the_currency() -> None:
    assert money(Decimal("73194.29"), "USD") == "73,194.29 USD"
    assert money("1250000", "JPY") == "1,250,000 JPY"
    assert money(Decimal("-0.50")) == "-0.50"
    assert money(None, "USD") == ""


def test_counts_agree_with_their_noun() -> None:
    assert (plural(0, "draft"), plural(1, "draft"), plural(2, "draft")) == ("0 drafts", "1 draft", "2 drafts")
