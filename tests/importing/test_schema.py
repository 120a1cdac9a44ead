"""The published JSON Schema of the import file."""

from __future__ import annotations

import json

import jsonschema
import pytest

from billpact.importing.models import ImportFile
from billpact.importing.schema import json_schema
from tests.importing.bad_documents import doc, entry

TOP_LEVEL_KEYS = {
    "organization",
    "clients",
    "contracts",
    "amendments",
    "time",
    "expenses",
    "milestones",
    "progress",
    "resales",
    "retainage_releases",
    "payments",
    "budgets",
    "cost_rates",
}


def test_schema_header() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "billpact import file"
    assert schema["$id"]
    assert schema["type"] == "object"
    json.dumps(schema)  # plain JSON


def test_schema_has_every_top_level_key_and_forbids_others() -> None:
    schema = json_schema()
    assert set(schema["properties"]) == TOP_LEVEL_KEYS == set(ImportFile.model_fields)
    assert schema["additionalProperties"] is False


def test_schema_references_resolve() -> None:
    schema = json_schema()
    defs = schema["$defs"]
    text = json.dumps(schema)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "')[1:]}:
        assert ref.startswith("#/$defs/") and ref.removeprefix("#/$defs/") in defs
    assert {"TimeTerm", "FixedTerm", "Contract", "TimeEntry"} <= set(defs)


def test_schema_validates_a_document() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    document = doc(time=[entry()])
    jsonschema.validate(document, schema)
    document["time"][0]["colour"] = "red"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)
