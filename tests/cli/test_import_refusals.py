"""Every validation rule through `billpact import`: exit 1, the problem's path and message, nothing loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

from billpact.cli.main import app
from billpact.db.models import Base
from billpact.db.session import make_engine
from tests.importing.bad_documents import BAD_DOCUMENTS, BadDocument


def _rows(db: str) -> dict[str, int]:
    engine = make_engine(db)
    with engine.connect() as conn:
        counts = {t.name: conn.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables}
    engine.dispose()
    return {name: n for name, n in counts.items() if n}


@pytest.mark.parametrize("bad", BAD_DOCUMENTS, ids=lambda b: b.name)
def test_bad_document_is_refused_whole(db: str, tmp_path: Path, bad: BadDocument) -> None:
    path = tmp_path / f"{bad.name}.yaml"
    path.write_text(yaml.safe_dump(bad.document, sort_keys=False))
    migrated = _rows(db)
    assert migrated == {"audit_head": 1}  # only what the migrations write
    result = CliRunner().invoke(app, ["import", str(path), "--db", db])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert f"{bad.path}: " in result.stderr and bad.message_part in result.stderr, result.stderr
    assert "nothing was changed" in result.stderr
    assert _rows(db) == migrated


def test_every_problem_is_reported_at_once(db: str, tmp_path: Path) -> None:
    doc = {
        "clients": [{"id": "ACME", "name": "Acme", "currency": "USX"}],
        "contracts": [{"id": "C-1", "client": "NOPE", "start": "2026-01-01",
                       "terms": [{"kind": "time", "rates": {"engineer": "-1"}}]}],
    }
    path = tmp_path / "three.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(app, ["import", str(path), "--db", db])
    assert result.exit_code == 1
    assert "contracts[0].terms[0].rates.engineer" in result.stderr
    assert _rows(db) == {"audit_head": 1}
