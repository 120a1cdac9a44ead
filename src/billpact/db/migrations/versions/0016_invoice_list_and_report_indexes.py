"""Indexes for the invoice list and the AR aging report at a million invoices (issue 8).

- invoice (is_hold, invoice_date): the API's invoice list is ordered by invoice date (then client and
  contract id) and never shows holds; with this index a page is read date by date instead of sorting every
  invoice, and the list's total is counted from the index alone.
- invoice (client_pk, is_hold, invoice_date): the same for one client's list (the client portal's, or a
  filter): its page and count read that client's entries, not the whole date index.
- invoice_line (kind): retainage receivable sums the (rare) retainage-release lines; without it each
  aging report reads every invoice line.

Revision ID: 0016
Revises: 0015
"""
from __future__ import annotations

from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.create_index('ix_invoice_list_order', ['is_hold', 'invoice_date'], unique=False)
        batch_op.create_index('ix_invoice_client_list_order', ['client_pk', 'is_hold', 'invoice_date'], unique=False)
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_line_kind'), ['kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('invoice_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_line_kind'))
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_index('ix_invoice_client_list_order')
        batch_op.drop_index('ix_invoice_list_order')
