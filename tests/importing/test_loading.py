"""Reading import files: YAML and JSON, and the guards against hostile or broken files."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from billpact.importing import loading
from billpact.importing.loading import MAX_ALIASES, check_aliases, load_file, load_text
from billpact.importing.validate import StoredState, validate
from tests.importing.bad_documents import doc, entry

YAML_TEXT = """\
clients:
  - {id: ACME, name: Acme Utilities, currency: USD, payment_terms: net30}
contracts:
  - id: C-1
    client: ACME
    start: 2026-01-01
    terms:
      - kind: time
        rates: {engineer: "150.00"}
time:
  - {contract: C-1, date: 2026-01-12, person: alice, role: engineer, hours: 7.1}
"""


def test_yaml_loads_with_dates_and_exact_decimals() -> None:
    data, problems = load_text(YAML_TEXT, "file.yaml")
    assert problems == []
    assert data["contracts"][0]["start"] == date(2026, 1, 1)
    assert data["time"][0]["hours"] == Decimal("7.1")
    parsed, problems = validate(data, StoredState())
    assert problems == [] and parsed is not None
    assert parsed.time[0].hours == Decimal("7.1")


def test_json_loads_even_with_tab_indentation() -> None:
    document = doc(time=[entry()])
    text = json.dumps(document, indent="\t").replace('"7.5"', "7.5")
    data, problems = load_text(text, "file.json")
    assert problems == []
    assert data["time"][0]["hours"] == Decimal("7.5")
    parsed, problems = validate(data, StoredState())
    assert problems == [] and parsed is not None
    assert parsed.time[0].date == date(2026, 1, 12)


def test_yaml_flow_mapping_that_is_not_json_still_loads() -> None:
    data, problems = load_text("{clients: [], time: []}", "flow.yaml")
    assert problems == [] and data == {"clients": [], "time": []}


def test_alias_bomb_is_refused() -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, 10):
        prev, name = chr(ord("a") + n - 1), chr(ord("a") + n)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    data, problems = load_text("\n".join(lines), "bomb.yaml")
    assert data is None
    assert len(problems) == 1 and problems[0].path.startswith("line ")
    assert "alias" in problems[0].message


def test_too_many_aliases_are_refused() -> None:
    text = "x: &x 1\nys:\n" + "".join("  - *x\n" for _ in range(MAX_ALIASES + 1))
    data, problems = load_text(text, "aliases.yaml")
    assert data is None
    assert f"more than {MAX_ALIASES} alias" in problems[0].message
    assert problems[0].path == "line 3"  # the list holding the alias that goes over


def bomb_text() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, 10):
        prev, name = chr(ord("a") + n - 1), chr(ord("a") + n)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines)


@pytest.mark.parametrize(
    "loader", [yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)], ids=["python", "libyaml"]
)
def test_alias_check_works_on_either_parser(loader: type[yaml.SafeLoader]) -> None:
    node = loader(bomb_text()).get_single_node()
    assert node is not None
    with pytest.raises(yaml.MarkedYAMLError, match="aliases expand"):
        check_aliases(node)


def test_recursive_alias_is_refused() -> None:
    data, problems = load_text("a: &a [1, *a]\n", "loop.yaml")
    assert data is None and "recursive alias" in problems[0].message


def test_moderate_anchors_and_merge_keys_are_fine() -> None:
    text = """\
base: &rates {engineer: "150.00", analyst: "90.00"}
one: {<<: *rates, principal: "250.00"}
two: *rates
"""
    data, problems = load_text(text, "anchors.yaml")
    assert problems == []
    assert data["one"] == {"engineer": "150.00", "analyst": "90.00", "principal": "250.00"}


@pytest.mark.parametrize(("text", "what"), [("- 1\n- 2\n", "list"), ("just text\n", "text"), ("42\n", "number")])
def test_non_mapping_top_level_is_refused(text: str, what: str) -> None:
    data, problems = load_text(text, "odd.yaml")
    assert data is None
    assert [p.path for p in problems] == [""]
    assert "must be a mapping" in problems[0].message and what in problems[0].message


def test_empty_file_is_refused() -> None:
    data, problems = load_text("# nothing here\n", "empty.yaml")
    assert data is None and "empty" in problems[0].message


def test_syntax_error_gives_the_line() -> None:
    data, problems = load_text("clients:\n  - id: ACME\n   name: [x\n", "broken.yaml")
    assert data is None
    assert problems[0].path in ("line 3", "line 4")


def test_duplicate_keys_are_refused() -> None:
    data, problems = load_text("time: []\nclients: []\ntime: []\n", "dup.yaml")
    assert data is None
    assert problems[0].path == "line 3" and "duplicate key 'time'" in problems[0].message
    data, problems = load_text('{"time": [], "time": []}', "dup.json")
    assert data is None and "duplicate key 'time'" in problems[0].message


def test_size_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(loading, "MAX_BYTES", 10)
    data, problems = load_text("clients: []\n", "big.yaml")
    assert data is None and "larger than" in problems[0].message
    file = tmp_path / "big.yaml"
    file.write_text("clients: []\n")
    data, problems = load_file(file)
    assert data is None and "larger than" in problems[0].message


def test_load_file_reads_utf8_with_bom(tmp_path: Path) -> None:
    file = tmp_path / "file.yaml"
    file.write_bytes(b"\xef\xbb\xbf" + YAML_TEXT.encode())
    data, problems = load_file(file)
    assert problems == [] and data["clients"][0]["id"] == "ACME"


def test_load_file_problems(tmp_path: Path) -> None:
    data, problems = load_file(tmp_path / "missing.yaml")
    assert data is None and "cannot read" in problems[0].message
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("clients: [{name: Café}]".encode("latin-1"))
    data, problems = load_file(latin)
    assert data is None and "UTF-8" in problems[0].message
