"""Reminders: the log that keeps each reminder to one firing, and the in-app notifications.

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notification',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=30), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=True),
    sa.Column('roles', sa.String(length=200), nullable=True),
    sa.Column('user_pk', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('read_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['user_pk'], ['app_user.pk'], name=op.f('fk_notification_user_pk_app_user')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_unread', ['read_at', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_user_pk'), ['user_pk'], unique=False)

    op.create_table('reminder_log',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=30), nullable=False),
    sa.Column('subject', sa.String(length=150), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outbox_pk', sa.Integer(), nullable=True),
    sa.Column('notification_pk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['notification_pk'], ['notification.pk'], name=op.f('fk_reminder_log_notification_pk_notification')),
    sa.ForeignKeyConstraint(['outbox_pk'], ['outbox_message.pk'], name=op.f('fk_reminder_log_outbox_pk_outbox_message')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_reminder_log')),
    sa.UniqueConstraint('rule', 'subject', 'key', name=op.f('uq_reminder_log_rule_subject_key'))
    )


def downgrade() -> None:
    op.drop_table('reminder_log')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_user_pk'))
        batch_op.drop_index('ix_notification_unread')
    op.drop_table('notification')
