"""FX rates: one stored rate per currency pair and day, for reports in the reporting currency.

Revision ID: 0014
Revises: 0013
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fx_rate',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('base', sa.String(length=3), nullable=False),
    sa.Column('quote', sa.String(length=3), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('rate', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.CheckConstraint("source IN ('import', 'ecb')", name=op.f('ck_fx_rate_source')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_fx_rate')),
    sa.UniqueConstraint('base', 'quote', 'date', name=op.f('uq_fx_rate_base_quote_date'))
    )


def downgrade() -> None:
    op.drop_table('fx_rate')
