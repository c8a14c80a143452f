"""staff accounts are pending until their first login; figures count urgent reports

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
    # The child's urgent mark (issue 13), which the figures count. The alerts branch adds the
    # same column; whichever migration runs second must skip it.
    op.add_column('submissions', sa.Column('urgent', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('submissions', 'urgent')
    op.drop_column('staff', 'status')
