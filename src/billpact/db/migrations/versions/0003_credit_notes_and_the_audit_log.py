"""Credit notes (and released units), the audit log (append-only, hash-chained), invoice sent_at.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:45:53.894436
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


APPEND_ONLY = "the audit log is append-only"
SQLITE = [f"""CREATE TRIGGER audit_record_{op_} BEFORE {op_.upper()} ON audit_record
              BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""" for op_ in ("update", "delete")]
POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION billpact_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$""",
    """CREATE TRIGGER audit_record_append_only BEFORE UPDATE OR DELETE ON audit_record
       FOR EACH ROW EXECUTE FUNCTION billpact_append_only()""",
]


def upgrade() -> None:
    op.create_table('audit_head',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_audit_head'))
    )
    op.create_table('audit_record',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('entity', sa.String(length=50), nullable=False),
    sa.Column('entity_id', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_record'))
    )
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_record_entity'), ['entity'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_record_entity_id'), ['entity_id'], unique=False)

    op.create_table('credit_note',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=100), nullable=False),
    sa.Column('invoice_pk', sa.Integer(), nullable=False),
    sa.Column('contract_pk', sa.Integer(), nullable=False),
    sa.Column('client_pk', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reason', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('subtotal', sa.BigInteger(), nullable=False),
    sa.Column('tax', sa.BigInteger(), nullable=False),
    sa.Column('retainage', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('amount_due', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_pk'], ['client.pk'], name=op.f('fk_credit_note_client_pk_client')),
    sa.ForeignKeyConstraint(['contract_pk'], ['contract.pk'], name=op.f('fk_credit_note_contract_pk_contract')),
    sa.ForeignKeyConstraint(['invoice_pk'], ['invoice.pk'], name=op.f('fk_credit_note_invoice_pk_invoice')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_credit_note')),
    sa.UniqueConstraint('number', name=op.f('uq_credit_note_number'))
    )
    with op.batch_alter_table('credit_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_note_client_pk'), ['client_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_note_contract_pk'), ['contract_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_note_invoice_pk'), ['invoice_pk'], unique=False)

    op.create_table('credit_note_line',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('credit_note_pk', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('invoice_line_pk', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('taxable', sa.Boolean(), nullable=False),
    sa.Column('retainable', sa.BigInteger(), nullable=False),
    sa.Column('disposition', sa.String(length=10), nullable=False),
    sa.Column('units', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['credit_note_pk'], ['credit_note.pk'], name=op.f('fk_credit_note_line_credit_note_pk_credit_note')),
    sa.ForeignKeyConstraint(['invoice_line_pk'], ['invoice_line.pk'], name=op.f('fk_credit_note_line_invoice_line_pk_invoice_line')),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_credit_note_line'))
    )
    with op.batch_alter_table('credit_note_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_note_line_credit_note_pk'), ['credit_note_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_note_line_invoice_line_pk'), ['invoice_line_pk'], unique=False)

    with op.batch_alter_table('billed_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('released_by', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_billed_item_contract_pk_item_key'), type_='unique')
        batch_op.create_index('uq_billed_item_live', ['contract_pk', 'item_key'], unique=True, sqlite_where=sa.text('released_by IS NULL'), postgresql_where=sa.text('released_by IS NULL'))
        batch_op.create_foreign_key(batch_op.f('fk_billed_item_released_by_credit_note_line'), 'credit_note_line', ['released_by'], ['pk'])

    with op.batch_alter_table('entry_link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('released_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rebills_pk', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_entry_link_rebills_pk_entry_link'), 'entry_link', ['rebills_pk'], ['pk'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_entry_link_released_by_credit_note_line'), 'credit_note_line', ['released_by'], ['pk'])

    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))

    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)
    # The chain's head exists from the start: writers only ever lock it, never race to create it.
    op.execute(f"INSERT INTO audit_head (pk, count, last_hash) VALUES (1, 0, '{'0' * 64}')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_record_append_only ON audit_record")
        op.execute("DROP FUNCTION IF EXISTS billpact_append_only()")
    else:
        for name in ("audit_record_update", "audit_record_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_column('sent_at')

    with op.batch_alter_table('entry_link', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_entry_link_released_by_credit_note_line'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_entry_link_rebills_pk_entry_link'), type_='foreignkey')
        batch_op.drop_column('rebills_pk')
        batch_op.drop_column('released_by')

    with op.batch_alter_table('billed_item', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_billed_item_released_by_credit_note_line'), type_='foreignkey')
        batch_op.drop_index('uq_billed_item_live', sqlite_where=sa.text('released_by IS NULL'), postgresql_where=sa.text('released_by IS NULL'))
        batch_op.create_unique_constraint(batch_op.f('uq_billed_item_contract_pk_item_key'), ['contract_pk', 'item_key'])
        batch_op.drop_column('released_by')

    with op.batch_alter_table('credit_note_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_note_line_invoice_line_pk'))
        batch_op.drop_index(batch_op.f('ix_credit_note_line_credit_note_pk'))

    op.drop_table('credit_note_line')
    with op.batch_alter_table('credit_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_note_invoice_pk'))
        batch_op.drop_index(batch_op.f('ix_credit_note_contract_pk'))
        batch_op.drop_index(batch_op.f('ix_credit_note_client_pk'))

    op.drop_table('credit_note')
    with op.batch_alter_table('audit_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_record_entity_id'))
        batch_op.drop_index(batch_op.f('ix_audit_record_entity'))

    op.drop_table('audit_record')
    op.drop_table('audit_head')
