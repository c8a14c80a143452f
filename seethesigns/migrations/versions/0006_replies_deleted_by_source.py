"""replies deleted by the source are kept for staff

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 15:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A reply the source deletes is hidden from them and kept for staff (issue 12); existing
    # replies are all still visible.
    with op.batch_alter_table('replies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_by_source', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('replies', schema=None) as batch_op:
        batch_op.drop_column('deleted_by_source')
