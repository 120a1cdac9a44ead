"""Pre-bill review: waivers of the findings that block a draft's approval.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 18:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('prebill_waiver',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('invoice_pk', sa.Integer(), nullable=False),
    sa.Column('check', sa.String(length=20), nullable=False),
    sa.Column('finding', sa.String(length=300), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invoice_pk'], ['invoice.pk'], name=op.f('fk_prebill_waiver_invoice_pk_invoice'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_prebill_waiver')),
    sa.UniqueConstraint('invoice_pk', 'finding', name=op.f('uq_prebill_waiver_invoice_pk_finding'))
    )


def downgrade() -> None:
    op.drop_table('prebill_waiver')
