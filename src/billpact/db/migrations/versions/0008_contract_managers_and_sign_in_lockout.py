"""Project managers of contracts; sign-in lockout after repeated wrong passwords.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contract_manager',
    sa.Column('contract_pk', sa.Integer(), nullable=False),
    sa.Column('user_pk', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contract_pk'], ['contract.pk'], name=op.f('fk_contract_manager_contract_pk_contract')),
    sa.ForeignKeyConstraint(['user_pk'], ['app_user.pk'], name=op.f('fk_contract_manager_user_pk_app_user')),
    sa.PrimaryKeyConstraint('contract_pk', 'user_pk', name=op.f('pk_contract_manager'))
    )
    with op.batch_alter_table('contract_manager', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_manager_user_pk'), ['user_pk'], unique=False)
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_sign_ins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_sign_ins')
    with op.batch_alter_table('contract_manager', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_manager_user_pk'))
    op.drop_table('contract_manager')
