"""The invoice list's whole order in an index (issue 8).

The list is ordered by invoice date, then client id, then contract id (code-point order), then pk. The
0016 indexes held the date only, so a page sorted every invoice of its dates: a firm that invoices on
the 1st has tens of thousands of them per date, and the API's first page cost 4–8 ms of PostgreSQL per
request. The ids are now copied onto the invoice (`client_code`, `contract_code`: ids never change), and
the indexes hold the whole order:

- invoice (is_hold, invoice_date, client_code, contract_code, pk): the list;
- invoice (client_code, is_hold, invoice_date, contract_code, pk): one client's list (portal, filter).

A fixed invoice keeps its ids as it keeps its amounts: the triggers of 0002 now cover both columns
(SQLite's are dropped while the table is rebuilt, and made again).

Revision ID: 0018
Revises: 0017
"""
from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


fixed = importlib.import_module("billpact.db.migrations.versions.0002_issued_invoices_never_change")
CODES = ("contract_code", "client_code")


def _triggers(amounts: tuple[str, ...]) -> None:
    """The 0002 triggers over `amounts`: on SQLite made anew (dropped before a table rebuild, which they
    would break), on PostgreSQL the invoice trigger's function replaced."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(fixed.postgresql_invoice_function(amounts))
        return
    for statement in fixed.sqlite_triggers(amounts):
        op.execute(statement)


def _drop_sqlite_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in fixed.SQLITE_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def _code() -> sa.types.TypeEngine[str]:
    return sa.String(length=100).with_variant(sa.String(length=100, collation="C"), "postgresql")


def upgrade() -> None:
    _drop_sqlite_triggers()
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contract_code', _code(), nullable=True))
        batch_op.add_column(sa.Column('client_code', _code(), nullable=True))
    op.execute("UPDATE invoice SET contract_code = (SELECT code FROM contract WHERE contract.pk = invoice.contract_pk), "
               "client_code = (SELECT code FROM client WHERE client.pk = invoice.client_pk)")
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.alter_column('contract_code', existing_type=_code(), nullable=False)
        batch_op.alter_column('client_code', existing_type=_code(), nullable=False)
        batch_op.drop_index('ix_invoice_list_order')
        batch_op.drop_index('ix_invoice_client_list_order')
        batch_op.create_index('ix_invoice_list_order',
                              ['is_hold', 'invoice_date', 'client_code', 'contract_code', 'pk'], unique=False)
        batch_op.create_index('ix_invoice_client_list_order',
                              ['client_code', 'is_hold', 'invoice_date', 'contract_code', 'pk'], unique=False)
    _triggers(fixed.AMOUNTS + CODES)


def downgrade() -> None:
    _drop_sqlite_triggers()
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_client_list_order')
        batch_op.drop_index('ix_invoice_list_order')
        batch_op.create_index('ix_invoice_list_order', ['is_hold', 'invoice_date'], unique=False)
        batch_op.create_index('ix_invoice_client_list_order', ['client_pk', 'is_hold', 'invoice_date'], unique=False)
        batch_op.drop_column('client_code')
        batch_op.drop_column('contract_code')
    _triggers(fixed.AMOUNTS)
