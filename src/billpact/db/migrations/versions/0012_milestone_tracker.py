"""Milestone tracker and project KPIs: plans with their history, KPIs with dated actuals.

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('milestone_plan',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('contract_pk', sa.Integer(), nullable=False),
    sa.Column('milestone', sa.String(length=100), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=True),
    sa.Column('planned', sa.Date(), nullable=True),
    sa.Column('forecast', sa.Date(), nullable=True),
    sa.Column('percent_complete', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.CheckConstraint('percent_complete BETWEEN 0 AND 100', name=op.f('ck_milestone_plan_percent_complete')),
    sa.ForeignKeyConstraint(['contract_pk'], ['contract.pk'], name=op.f('fk_milestone_plan_contract_pk_contract')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_milestone_plan')),
    sa.UniqueConstraint('contract_pk', 'milestone', name=op.f('uq_milestone_plan_contract_pk_milestone'))
    )
    op.create_table('milestone_update',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('plan_pk', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['plan_pk'], ['milestone_plan.pk'], name=op.f('fk_milestone_update_plan_pk_milestone_plan')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_milestone_update'))
    )
    with op.batch_alter_table('milestone_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_milestone_update_plan_pk'), ['plan_pk'], unique=False)

    op.create_table('project_kpi',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('contract_pk', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('unit', sa.String(length=50), nullable=False),
    sa.Column('target', sa.BigInteger(), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.CheckConstraint("direction IN ('higher', 'lower')", name=op.f('ck_project_kpi_direction')),
    sa.ForeignKeyConstraint(['contract_pk'], ['contract.pk'], name=op.f('fk_project_kpi_contract_pk_contract')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_project_kpi')),
    sa.UniqueConstraint('contract_pk', 'name', name=op.f('uq_project_kpi_contract_pk_name'))
    )
    op.create_table('project_kpi_actual',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('kpi_pk', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['kpi_pk'], ['project_kpi.pk'], name=op.f('fk_project_kpi_actual_kpi_pk_project_kpi')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_project_kpi_actual')),
    sa.UniqueConstraint('kpi_pk', 'date', name=op.f('uq_project_kpi_actual_kpi_pk_date'))
    )


def downgrade() -> None:
    op.drop_table('project_kpi_actual')
    op.drop_table('project_kpi')
    with op.batch_alter_table('milestone_update', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_milestone_update_plan_pk'))

    op.drop_table('milestone_update')
    op.drop_table('milestone_plan')
