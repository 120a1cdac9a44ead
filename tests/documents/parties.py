"""Party details for e-invoice tests: what Peppol needs of the seller and the buyers, merged into a scenario."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from tests.support import run

# Party details merged into a scenario: a UK seller and clients in the countries of their currencies,
# every identifier well formed (GLN check digits, IBAN mod 97).
ORGANIZATION = {"name": "Prime Engineering Ltd",
                "address": {"lines": ["12 Clerkenwell Road"], "city": "London", "postcode": "EC1M 5PQ",
                            "country": "GB"},
                "vat_id": "GB123456789", "legal_id": "09876543",
                "endpoint": {"scheme": "0088", "id": "5790000435968"},
                "bank": {"iban": "GB82WEST12345698765432", "bic": "NWBKGB2L"}}
COUNTRIES = {"USD": "US", "EUR": "DE", "GBP": "GB", "JPY": "JP", "KWD": "KW"}
GLNS = ["5400000000010", "5400000000027", "5400000000034", "5400000000041", "5400000000058"]



def with_details(doc: dict[str, Any]) -> dict[str, Any]:
    """An import document with the party details an e-invoice needs added to its organization and clients."""
    doc = copy.deepcopy(doc)
    doc.pop("through", None)
    doc["organization"] = {**ORGANIZATION, **(doc.get("organization") or {})}
    for client, gln in zip(doc["clients"], GLNS, strict=False):
        client.setdefault("address", {"lines": ["2 Elm Street"], "city": "Springfield", "postcode": "12345",
                                      "country": COUNTRIES[client["currency"]]})
        client.setdefault("endpoint", {"scheme": "0088", "id": gln})
        if client["currency"] == "EUR":
            client.setdefault("vat_id", "DE123456789")
    return doc


def load(db: str, tmp_path: Path, doc: dict[str, Any]) -> None:
    path = tmp_path / "import.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    run(db, "import", str(path))
