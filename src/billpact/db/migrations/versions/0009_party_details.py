"""What invoices say about the organization and its clients: addresses, tax ids, e-invoice endpoints,
bank details and tax categories (the import format's party keys, kept as written).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 17:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=True))
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('details', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('details')
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_column('details')
