"""staff accounts are pending until their first login

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 16:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New accounts wait for their owner's first login; accounts that exist already are in use
    # and become active, so nobody is locked out by the upgrade. Plain ADD COLUMN, no batch
    # rebuild: rebuilding `staff` with foreign keys on would cascade to its dependent rows.
    op.add_column('staff', sa.Column('status', sa.String(length=16), nullable=False, server_default='pending'))
    op.execute("UPDATE staff SET status = 'active'")


def downgrade() -> None:
    op.drop_column('staff', 'status')
