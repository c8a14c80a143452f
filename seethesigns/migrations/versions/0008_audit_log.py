"""staff audit log, and how long it is kept

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 16:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# The default of seethesigns/models/instance_config.py, written out: a migration must not
# change when the code's default does.
AUDIT_RETENTION_DAYS = '730'


def upgrade() -> None:
    op.create_table(
        'audit_entries',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('occurred_at', sa.DateTime(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('staff_username', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('object_type', sa.String(length=20), nullable=True),
        sa.Column('object_id', sa.String(length=64), nullable=True),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('entry_hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries')),
    )
    op.create_index(op.f('ix_audit_entries_occurred_at'), 'audit_entries', ['occurred_at'], unique=False)
    op.create_index(op.f('ix_audit_entries_staff_id'), 'audit_entries', ['staff_id'], unique=False)
    op.create_index(op.f('ix_audit_entries_action'), 'audit_entries', ['action'], unique=False)
    # A plain ADD COLUMN with a server default, as in 0007: the existing row gets 730 days.
    op.add_column('instance_config', sa.Column('audit_retention_days', sa.Integer(), nullable=False, server_default=AUDIT_RETENTION_DAYS))


def downgrade() -> None:
    with op.batch_alter_table('instance_config', schema=None) as batch_op:
        batch_op.drop_column('audit_retention_days')
    op.drop_index(op.f('ix_audit_entries_action'), table_name='audit_entries')
    op.drop_index(op.f('ix_audit_entries_staff_id'), table_name='audit_entries')
    op.drop_index(op.f('ix_audit_entries_occurred_at'), table_name='audit_entries')
    op.drop_table('audit_entries')
