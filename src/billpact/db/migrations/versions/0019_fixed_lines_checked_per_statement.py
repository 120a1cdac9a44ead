"""PostgreSQL: a fixed invoice's lines are guarded per statement, not per row (issue 8).

0002's row trigger looked up the invoice of every line written. Inside a big billing run that lookup's
plan was made once per session, while the invoice table was still empty in the statistics, and it then
walked an index for every line: a COPY of 5,000 lines took minutes at 100,000 contracts (`perf`: the
trigger's index scan, `_bt_checkkeys`, was the whole of the server's time). Statement triggers with
transition tables check all the lines of a statement in one join, planned with the statement's rows
(one COPY of a run's batch: one check); what they refuse is what the row trigger refused. SQLite keeps its
row triggers (0002).

Revision ID: 0019
Revises: 0018
"""
from __future__ import annotations

import importlib

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

fixed = importlib.import_module("billpact.db.migrations.versions.0002_issued_invoices_never_change")


def _refuse_fixed(lines: str) -> str:
    """PL/pgSQL: raise when any of `lines` (a transition table) belongs to a fixed invoice."""
    return f"""IF EXISTS (SELECT 1 FROM {lines} l JOIN invoice i ON i.pk = l.invoice_pk
                   WHERE i.status IN {fixed.FIXED}) THEN
          RAISE EXCEPTION '{fixed.MESSAGE}';
        END IF;"""


# Each query names only the transition tables its event has (a query naming another is an error, even
# in a condition that is false): hence the nested IFs.
CHECK = f"""CREATE OR REPLACE FUNCTION billpact_fixed_lines() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {_refuse_fixed("new_lines")}
      END IF;
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_refuse_fixed("old_lines")}
      END IF;
      RETURN NULL;
    END $$"""

TRIGGERS = [
    """CREATE TRIGGER invoice_lines_fixed_insert AFTER INSERT ON invoice_line
       REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION billpact_fixed_lines()""",
    """CREATE TRIGGER invoice_lines_fixed_update AFTER UPDATE ON invoice_line
       REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines FOR EACH STATEMENT
       EXECUTE FUNCTION billpact_fixed_lines()""",
    """CREATE TRIGGER invoice_lines_fixed_delete AFTER DELETE ON invoice_line
       REFERENCING OLD TABLE AS old_lines FOR EACH STATEMENT EXECUTE FUNCTION billpact_fixed_lines()""",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS invoice_line_fixed ON invoice_line")
    op.execute(CHECK)
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in ("invoice_lines_fixed_insert", "invoice_lines_fixed_update", "invoice_lines_fixed_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON invoice_line")
    op.execute("DROP FUNCTION IF EXISTS billpact_fixed_lines()")
    op.execute(fixed.POSTGRESQL[1])   # 0002's row trigger (its function was kept)
