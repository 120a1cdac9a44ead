"""Issued invoices never change: triggers refuse edits of a fixed invoice's lines and amounts.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Statuses after approval: the invoice is part of the ledger; only its header dates, number and
# status may still move (at issue, send, payment), never its lines or amounts.
FIXED = "('approved', 'issued', 'sent', 'partially_paid', 'paid', 'disputed')"
UNFIXED = "('draft', 'void')"  # a fixed invoice never goes back: void is for drafts only
AMOUNTS = ("subtotal", "tax", "retainage_held", "total", "amount_due", "contract_pk", "client_pk", "currency",
           "billing_date")
MESSAGE = "a fixed (approved or issued) invoice never changes: correct it with a credit note"

SQLITE_NAMES = ("invoice_line_fixed_update", "invoice_line_fixed_delete", "invoice_line_fixed_insert",
                "invoice_fixed_amounts", "invoice_fixed_delete")


def sqlite_triggers(amounts: tuple[str, ...] = AMOUNTS) -> list[str]:
    """The SQLite triggers, in SQLITE_NAMES order; `amounts`: the invoice columns a fixed invoice keeps
    (a later migration adds columns to it)."""
    return [
        f"""CREATE TRIGGER invoice_line_fixed_update BEFORE UPDATE ON invoice_line
        WHEN (SELECT status FROM invoice WHERE pk = OLD.invoice_pk) IN {FIXED}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
        f"""CREATE TRIGGER invoice_line_fixed_delete BEFORE DELETE ON invoice_line
        WHEN (SELECT status FROM invoice WHERE pk = OLD.invoice_pk) IN {FIXED}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
        f"""CREATE TRIGGER invoice_line_fixed_insert BEFORE INSERT ON invoice_line
        WHEN (SELECT status FROM invoice WHERE pk = NEW.invoice_pk) IN {FIXED}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
        f"""CREATE TRIGGER invoice_fixed_amounts BEFORE UPDATE ON invoice
        WHEN OLD.status IN {FIXED} AND ({' OR '.join(f'NEW.{c} IS NOT OLD.{c}' for c in amounts)}
             OR (OLD.number IS NOT NULL AND NEW.number IS NOT OLD.number) OR NEW.status IN {UNFIXED})
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
        f"""CREATE TRIGGER invoice_fixed_delete BEFORE DELETE ON invoice
        WHEN OLD.status IN {FIXED} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    ]


def postgresql_invoice_function(amounts: tuple[str, ...] = AMOUNTS) -> str:
    return f"""CREATE OR REPLACE FUNCTION billpact_fixed_invoice() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.status IN {FIXED} AND (TG_OP = 'DELETE'
          OR ({' OR '.join(f'NEW.{c} IS DISTINCT FROM OLD.{c}' for c in amounts)})
          OR (OLD.number IS NOT NULL AND NEW.number IS DISTINCT FROM OLD.number)
          OR NEW.status IN {UNFIXED}) THEN
        RAISE EXCEPTION '{MESSAGE}';
      END IF;
      RETURN COALESCE(NEW, OLD);
    END $$"""


SQLITE = sqlite_triggers()

POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION billpact_fixed_line() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (SELECT status FROM invoice WHERE pk = COALESCE(OLD.invoice_pk, NEW.invoice_pk)) IN {FIXED} THEN
        RAISE EXCEPTION '{MESSAGE}';
      END IF;
      RETURN COALESCE(NEW, OLD);
    END $$""",
    """CREATE TRIGGER invoice_line_fixed BEFORE INSERT OR UPDATE OR DELETE ON invoice_line
       FOR EACH ROW EXECUTE FUNCTION billpact_fixed_line()""",
    postgresql_invoice_function(),
    """CREATE TRIGGER invoice_fixed BEFORE UPDATE OR DELETE ON invoice
       FOR EACH ROW EXECUTE FUNCTION billpact_fixed_invoice()""",
]


def upgrade() -> None:
    statements = POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS invoice_line_fixed ON invoice_line")
        op.execute("DROP TRIGGER IF EXISTS invoice_fixed ON invoice")
        op.execute("DROP FUNCTION IF EXISTS billpact_fixed_line()")
        op.execute("DROP FUNCTION IF EXISTS billpact_fixed_invoice()")
        return
    for name in SQLITE_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
