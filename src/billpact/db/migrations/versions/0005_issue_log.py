"""The billing issue log: issues (disputes, discrepancies, missing data, rate questions) and their history.

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Written out, not imported from the models: a migration keeps the schema of its own day.
KINDS = "('discrepancy', 'dispute', 'missing_data', 'rate_question', 'other')"
SEVERITIES = "('low', 'medium', 'high', 'critical')"
STATUSES = "('open', 'investigating', 'waiting_on_client', 'resolved', 'rejected')"


def upgrade() -> None:
    op.create_table('billing_issue',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('client_pk', sa.Integer(), nullable=False),
    sa.Column('contract_pk', sa.Integer(), nullable=True),
    sa.Column('invoice_pk', sa.Integer(), nullable=True),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_by', sa.String(length=200), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('credit_note_pk', sa.Integer(), nullable=True),
    sa.Column('new_invoice_pk', sa.Integer(), nullable=True),
    sa.CheckConstraint(f'kind IN {KINDS}', name=op.f('ck_billing_issue_kind')),
    sa.CheckConstraint(f'severity IN {SEVERITIES}', name=op.f('ck_billing_issue_severity')),
    sa.CheckConstraint(f'status IN {STATUSES}', name=op.f('ck_billing_issue_status')),
    sa.ForeignKeyConstraint(['client_pk'], ['client.pk'], name=op.f('fk_billing_issue_client_pk_client')),
    sa.ForeignKeyConstraint(['contract_pk'], ['contract.pk'], name=op.f('fk_billing_issue_contract_pk_contract')),
    sa.ForeignKeyConstraint(['invoice_pk'], ['invoice.pk'], name=op.f('fk_billing_issue_invoice_pk_invoice')),
    sa.ForeignKeyConstraint(['credit_note_pk'], ['credit_note.pk'], name=op.f('fk_billing_issue_credit_note_pk_credit_note')),
    sa.ForeignKeyConstraint(['new_invoice_pk'], ['invoice.pk'], name=op.f('fk_billing_issue_new_invoice_pk_invoice')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_billing_issue'))
    )
    with op.batch_alter_table('billing_issue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_issue_client_pk'), ['client_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_issue_contract_pk'), ['contract_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_issue_invoice_pk'), ['invoice_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_issue_status'), ['status'], unique=False)

    op.create_table('billing_issue_update',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('issue_pk', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=True),
    sa.Column('credit_note_pk', sa.Integer(), nullable=True),
    sa.Column('new_invoice_pk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['issue_pk'], ['billing_issue.pk'], name=op.f('fk_billing_issue_update_issue_pk_billing_issue')),
    sa.ForeignKeyConstraint(['credit_note_pk'], ['credit_note.pk'], name=op.f('fk_billing_issue_update_credit_note_pk_credit_note')),
    sa.ForeignKeyConstraint(['new_invoice_pk'], ['invoice.pk'], name=op.f('fk_billing_issue_update_new_invoice_pk_invoice')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_billing_issue_update'))
    )
    with op.batch_alter_table('billing_issue_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_issue_update_issue_pk'), ['issue_pk'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('billing_issue_update', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_issue_update_issue_pk'))

    op.drop_table('billing_issue_update')
    with op.batch_alter_table('billing_issue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_issue_status'))
        batch_op.drop_index(batch_op.f('ix_billing_issue_invoice_pk'))
        batch_op.drop_index(batch_op.f('ix_billing_issue_contract_pk'))
        batch_op.drop_index(batch_op.f('ix_billing_issue_client_pk'))

    op.drop_table('billing_issue')
