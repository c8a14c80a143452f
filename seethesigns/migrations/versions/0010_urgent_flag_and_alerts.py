"""urgent flag and content-free alerts (issue 13)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 16:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# The default of seethesigns/instance_settings.py, written out.
ALERT_BATCH_MINUTES = '15'


def upgrade() -> None:
    op.add_column('submissions', sa.Column('urgent', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('staff', sa.Column('alert_address', sa.String(length=254), nullable=True))
    op.add_column('staff', sa.Column('alerts_enabled', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('instance_config', sa.Column('alert_batch_minutes', sa.Integer(), nullable=False, server_default=ALERT_BATCH_MINUTES))
    # Urgent sources come first in the list: the list index now starts with the flag. Plain
    # ADD COLUMN and index statements, never a batch rebuild: rebuilding `sources` with
    # foreign keys on cascades the drop of the old table to every submission, reply and seen
    # mark (0006 learnt this; a test walks every migration up and down with rows in place).
    op.add_column('sources', sa.Column('urgent', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.drop_index('ix_sources_list_order', table_name='sources')
    op.create_index(
        'ix_sources_list_order',
        'sources',
        ['urgent', 'is_starred', 'last_updated', 'id', 'designation'],
        unique=False,
    )
    op.create_table(
        'alert_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('planned_at', sa.DateTime(), nullable=True),
        sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
        sa.Column('acknowledged_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['acknowledged_by'], ['staff.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_alert_events_planned_at', 'alert_events', ['planned_at'], unique=False)
    op.create_index('ix_alert_events_acknowledged_at', 'alert_events', ['acknowledged_at'], unique=False)
    op.create_table(
        'alert_rounds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_alert_rounds_reason', 'alert_rounds', ['reason'], unique=False)
    op.create_index('ix_alert_rounds_created_at', 'alert_rounds', ['created_at'], unique=False)
    op.create_table(
        'alert_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['round_id'], ['alert_rounds.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_alert_deliveries_next_attempt_at', 'alert_deliveries', ['next_attempt_at'], unique=False)
    op.create_index('ix_alert_deliveries_sent_at', 'alert_deliveries', ['sent_at'], unique=False)


def downgrade() -> None:
    op.drop_table('alert_deliveries')
    op.drop_table('alert_rounds')
    op.drop_table('alert_events')
    # Plain DROP COLUMN (SQLite 3.35 and later), for the same reason as above.
    op.drop_index('ix_sources_list_order', table_name='sources')
    op.create_index(
        'ix_sources_list_order', 'sources', ['is_starred', 'last_updated', 'id', 'designation'], unique=False
    )
    op.drop_column('sources', 'urgent')
    op.drop_column('instance_config', 'alert_batch_minutes')
    op.drop_column('staff', 'alerts_enabled')
    op.drop_column('staff', 'alert_address')
    op.drop_column('submissions', 'urgent')
