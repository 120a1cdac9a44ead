"""Currencies, their ISO 4217 minor units, and the one place amounts are rounded."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

# ISO 4217 active codes and their minor units (exponent). Codes absent here are not ISO 4217.
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_FOUR = "CLF UYW"
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL "
    "GHS GIP GMD GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR "
    "LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB "
    "PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP "
    "SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL"
)
MINOR_UNITS: dict[str, int] = {
    **{c: 2 for c in _TWO.split()},
    **{c: 3 for c in _THREE.split()},
    **{c: 0 for c in _ZERO.split()},
    **{c: 4 for c in _FOUR.split()},
}

ZERO = Decimal(0)


class CurrencyError(ValueError):
    """An unknown currency code, or amounts of two currencies mixed."""


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency; `quantize` is the only rounding of money in billpact."""

    code: str
    exponent: int
    quantum: Decimal = Decimal(1)

    @classmethod
    def of(cls, code: str) -> Currency:
        return _currency(code)

    def quantize(self, amount: Decimal) -> Decimal:
        """Round half-up (ties away from zero) to the currency's minor unit."""
        return amount.quantize(self.quantum, rounding=ROUND_HALF_UP)

    def format(self, amount: Decimal) -> str:
        """The amount as a string with exactly the minor-unit digits ("1234.50")."""
        return f"{self.quantize(amount):.{self.exponent}f}"


@cache
def _currency(code: str) -> Currency:
    try:
        exponent = MINOR_UNITS[code]
    except KeyError:
        raise CurrencyError(f"{code!r} is not an ISO 4217 currency code") from None
    return Currency(code, exponent, Decimal(1).scaleb(-exponent))


def is_currency(code: str) -> bool:
    return code in MINOR_UNITS


def share(amount: Decimal, part: Decimal, whole: Decimal, currency: Currency) -> Decimal:
    """round(amount × part / whole): a part of `amount` in the proportion part/whole (0 when whole is 0)."""
    if whole == 0:
        return ZERO
    return currency.quantize(amount * part / whole) + 0  # + 0 turns -0.00 into 0.00
