"""The JSON Schema of the import file (`billpact schema`), published from the same models that validate it."""

from __future__ import annotations

from typing import Any

from billpact.importing.models import ImportFile

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:billpact:import-file:1.1"
TITLE = "billpact import file"


def json_schema() -> dict[str, Any]:
    """ImportFile's JSON Schema with `$schema`, `$id` and a title; editors can validate files with it."""
    schema = ImportFile.model_json_schema()
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        **schema,
        "title": TITLE,
        "description": "Contracts, amendments and billable events, loaded by `billpact import` "
                       "in one transaction (spec §2). YAML or JSON.",
    }


__all__ = ["json_schema"]
