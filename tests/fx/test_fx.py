"""Stored FX rates: the rate on or before a day, inverse pairs, rounding, CSV refusals, ECB seeding."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from currency_converter import CurrencyConverter

from billpact.errors import InvalidInput
from billpact.fx import service as fx
from billpact.fx.models import FxRate
from tests.support import database, run

RATES = """date,base,quote,rate
2026-01-30,EUR,USD,1.1000
2026-02-27,EUR,USD,1.2000
2026-02-27,USD,JPY,150.5
"""


def _import(db: str, tmp_path: Path, text: str = RATES, code: int = 0) -> Any:
    path = tmp_path / "rates.csv"
    path.write_text(text)
    return run(db, "fx", "import", str(path), code=code)


def test_the_rate_is_the_latest_on_or_before_the_day(db: str, tmp_path: Path) -> None:
    _import(db, tmp_path)
    with database(db) as session:
        assert fx.rate(session, "EUR", "USD", dt.date(2026, 2, 1)).rate == Decimal("1.1")
        found = fx.rate(session, "EUR", "USD", dt.date(2026, 3, 31))
        assert (found.rate, found.date, found.source) == (Decimal("1.2"), dt.date(2026, 2, 27), "import")
        assert fx.rate(session, "GBP", "GBP", dt.date(2026, 1, 1)).rate == 1
        with pytest.raises(InvalidInput) as refused:
            fx.rate(session, "EUR", "USD", dt.date(2026, 1, 29))
    assert "no EUR→USD rate on or before 2026-01-29: import rates with `billpact fx import`" in refused.value.message


def test_the_inverse_pair_answers_as_one_over_the_rate(db: str, tmp_path: Path) -> None:
    _import(db, tmp_path)
    with database(db) as session:
        found = fx.rate(session, "USD", "EUR", dt.date(2026, 3, 1))
        assert found.inverse and found.rate == 1 / Decimal("1.2")
        assert "inverse" in found.describe()
        amount, _used = fx.convert(session, Decimal("120.00"), "USD", "EUR", dt.date(2026, 3, 1))
    assert amount == Decimal("100.00")


def test_conversion_rounds_half_up_to_the_target_minor_unit(db: str, tmp_path: Path) -> None:
    _import(db, tmp_path)
    with database(db) as session:
        # 10.005 × 1.1 = 11.0055 → 11.01 (half-up), and 0 digits for JPY: 1.01 × 150.5 = 152.005 → 152
        assert fx.convert(session, Decimal("10.005"), "EUR", "USD", dt.date(2026, 2, 1))[0] == Decimal("11.01")
        assert fx.convert(session, Decimal("1.01"), "USD", "JPY", dt.date(2026, 3, 1))[0] == Decimal("152")
        assert fx.convert(session, Decimal("0.05"), "EUR", "USD", dt.date(2026, 2, 1))[0] == Decimal("0.06")
    shown = run(db, "fx", "convert", "100", "EUR", "USD", "--on", "2026-03-15", "--json")
    assert shown["converted"] == "120.00" and shown["rate"]["date"] == "2026-02-27"


def test_a_bad_file_loads_nothing_and_names_every_bad_line(db: str, tmp_path: Path) -> None:
    bad = ("date,base,quote,rate\n2026-01-30,EUR,USD,1.1\n2026-13-01,EUR,USD,1.1\n2026-01-31,EUR,XXX,1\n"
           "2026-01-31,EUR,USD,-2\n2026-01-30,EUR,USD,1.2\n2026-02-01,EUR,USD,0.123456789012\n")
    result = _import(db, tmp_path, bad, code=1)
    output = result.output
    assert "line 3: date '2026-13-01' is not a date" in output
    assert "line 4: quote 'XXX' is not an ISO 4217 currency code" in output
    assert "line 5: rate '-2' must be a positive number" in output
    assert "line 6: EUR→USD on 2026-01-30 is already on line 2" in output
    assert "line 7: rate '0.123456789012' has more than 10 decimal places" in output
    assert "nothing was changed" in output
    assert run(db, "fx", "list", "--json") == []
    assert "missing column(s) rate" in _import(db, tmp_path, "date,base,quote\n", code=1).output


def test_a_stored_rate_is_never_silently_replaced(db: str, tmp_path: Path) -> None:
    _import(db, tmp_path)
    again = _import(db, tmp_path, "date,base,quote,rate\n2026-03-02,EUR,USD,1.3\n2026-01-30,EUR,USD,1.15\n", code=1)
    assert "line 3: EUR→USD on 2026-01-30 is already stored as 1.1, not 1.15" in again.output
    assert len(run(db, "fx", "list", "--json")) == 3   # the good line 2 was not loaded either


def test_ecb_seeding_stores_the_published_rates(db: str) -> None:
    loaded = run(db, "fx", "seed", "--from", "2024-01-01", "--to", "2024-01-07", "--currency", "USD",
                 "--currency", "JPY", "--json")
    # 1 January is a TARGET holiday and 6–7 January a weekend: 2–5 January, two currencies.
    assert loaded["added"] == 8
    expected = Decimal(str(CurrencyConverter().convert(1, "EUR", "USD", date=dt.date(2024, 1, 2))))
    with database(db) as session:
        assert fx.rate(session, "EUR", "USD", dt.date(2024, 1, 2)).rate == expected
        saturday = fx.rate(session, "EUR", "USD", dt.date(2024, 1, 6))
        assert saturday.date == dt.date(2024, 1, 5) and saturday.source == "ecb"
        assert session.query(FxRate).count() == 8
    assert run(db, "fx", "seed", "--from", "2024-01-01", "--to", "2024-01-07", "--currency", "USD",
               "--json")["unchanged"] == 4
    assert "the ECB publishes no rate" in run(db, "fx", "seed", "--from", "2024-01-01", "--to", "2024-01-02",
                                              "--currency", "XAU", code=1).output
