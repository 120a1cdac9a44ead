"""Billing runs shared by workers (issue 8): the run, and its contracts claimed in batches.

Revision ID: 0017
Revises: 0016
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('billing_run',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('through', sa.Date(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_by', sa.String(length=200), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_billing_run'))
    )
    op.create_table('billing_claim',
    sa.Column('run_pk', sa.Integer(), nullable=False),
    sa.Column('contract_pk', sa.Integer(), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('worker', sa.String(length=200), nullable=True),
    sa.Column('created', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['contract_pk'], ['contract.pk'], name=op.f('fk_billing_claim_contract_pk_contract')),
    sa.ForeignKeyConstraint(['run_pk'], ['billing_run.pk'], name=op.f('fk_billing_claim_run_pk_billing_run'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_pk', 'contract_pk', name=op.f('pk_billing_claim'))
    )
    with op.batch_alter_table('billing_claim', schema=None) as batch_op:
        batch_op.create_index('ix_billing_claim_open', ['run_pk', 'done_at', 'contract_pk'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('billing_claim', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_claim_open')
    op.drop_table('billing_claim')
    op.drop_table('billing_run')
