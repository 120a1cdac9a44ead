"""Checks of the identifiers on invoices that a typo would make undeliverable or unpayable.

Country codes come from Babel's CLDR territory list (ISO 3166-1 alpha-2); an IBAN is checked by its
ISO 13616 mod-97 check digits, which catch every single-character error and almost every swap.
"""

from __future__ import annotations

import re
from functools import cache

from babel import Locale

_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


@cache
def countries() -> frozenset[str]:
    codes = (str(code) for code in Locale("en").territories)
    return frozenset(code for code in codes if len(code) == 2 and code.isalpha())


def is_country(code: str) -> bool:
    return code in countries()


def compact_iban(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def is_iban(text: str) -> bool:
    iban = compact_iban(text)
    if not _IBAN.match(iban) or not is_country(iban[:2]):
        return False
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    return int(digits) % 97 == 1
