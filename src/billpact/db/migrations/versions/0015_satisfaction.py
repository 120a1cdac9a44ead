"""Customer satisfaction scores (issue 7): 1 to 5, per client, optionally about one invoice.

Revision ID: 0015
Revises: 0014
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('satisfaction_score',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('client_pk', sa.Integer(), nullable=False),
    sa.Column('invoice_pk', sa.Integer(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('given_by', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name=op.f('ck_satisfaction_score_score')),
    sa.CheckConstraint("source IN ('portal', 'api', 'import')", name=op.f('ck_satisfaction_score_source')),
    sa.ForeignKeyConstraint(['client_pk'], ['client.pk'], name=op.f('fk_satisfaction_score_client_pk_client')),
    sa.ForeignKeyConstraint(['invoice_pk'], ['invoice.pk'], name=op.f('fk_satisfaction_score_invoice_pk_invoice')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_satisfaction_score'))
    )
    with op.batch_alter_table('satisfaction_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_satisfaction_score_client_pk'), ['client_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_satisfaction_score_given_at'), ['given_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_satisfaction_score_invoice_pk'), ['invoice_pk'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('satisfaction_score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_satisfaction_score_invoice_pk'))
        batch_op.drop_index(batch_op.f('ix_satisfaction_score_given_at'))
        batch_op.drop_index(batch_op.f('ix_satisfaction_score_client_pk'))
    op.drop_table('satisfaction_score')
