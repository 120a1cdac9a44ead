"""Timesheets: entries wait in their own table until approved (then they become time entries).

Revision ID: 0013
Revises: 0012
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('timesheet_entry',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('contract_pk', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('person', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=False),
    sa.Column('hours', sa.BigInteger(), nullable=False),
    sa.Column('overtime', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('time_entry_id', sa.String(length=100), nullable=True),
    sa.Column('time_entry_pk', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'approved', 'rejected')",
                       name=op.f('ck_timesheet_entry_status')),
    sa.CheckConstraint("source IN ('web', 'api', 'toggl', 'clockify', 'harvest')",
                       name=op.f('ck_timesheet_entry_source')),
    sa.ForeignKeyConstraint(['contract_pk'], ['contract.pk'], name=op.f('fk_timesheet_entry_contract_pk_contract')),
    sa.ForeignKeyConstraint(['time_entry_pk'], ['time_entry.pk'],
                            name=op.f('fk_timesheet_entry_time_entry_pk_time_entry')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_timesheet_entry')),
    sa.UniqueConstraint('source', 'external_id', name=op.f('uq_timesheet_entry_source_external_id')),
    sa.UniqueConstraint('time_entry_id', name=op.f('uq_timesheet_entry_time_entry_id'))
    )
    with op.batch_alter_table('timesheet_entry', schema=None) as batch_op:
        batch_op.create_index('ix_timesheet_entry_contract_status', ['contract_pk', 'status'], unique=False)
        batch_op.create_index('ix_timesheet_entry_person_date', ['person', 'date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('timesheet_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_timesheet_entry_person_date')
        batch_op.drop_index('ix_timesheet_entry_contract_status')
    op.drop_table('timesheet_entry')
