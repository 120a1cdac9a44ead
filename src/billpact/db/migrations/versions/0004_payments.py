"""Payments and their allocation to invoices: allocation rows (payment or credit note → invoice),
payment reversal columns.

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('allocation',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('invoice_pk', sa.Integer(), nullable=False),
    sa.Column('payment_pk', sa.Integer(), nullable=True),
    sa.Column('credit_note_pk', sa.Integer(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reversed_on', sa.Date(), nullable=True),
    sa.CheckConstraint('(payment_pk IS NULL) <> (credit_note_pk IS NULL)', name=op.f('ck_allocation_one_source')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_allocation_positive')),
    sa.ForeignKeyConstraint(['credit_note_pk'], ['credit_note.pk'], name=op.f('fk_allocation_credit_note_pk_credit_note')),
    sa.ForeignKeyConstraint(['invoice_pk'], ['invoice.pk'], name=op.f('fk_allocation_invoice_pk_invoice')),
    sa.ForeignKeyConstraint(['payment_pk'], ['payment.pk'], name=op.f('fk_allocation_payment_pk_payment')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_allocation'))
    )
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allocation_credit_note_pk'), ['credit_note_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_allocation_invoice_pk'), ['invoice_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_allocation_payment_pk'), ['payment_pk'], unique=False)

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reversed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reversal_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_column('reversal_reason')
        batch_op.drop_column('reversed_on')

    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_allocation_payment_pk'))
        batch_op.drop_index(batch_op.f('ix_allocation_invoice_pk'))
        batch_op.drop_index(batch_op.f('ix_allocation_credit_note_pk'))

    op.drop_table('allocation')
