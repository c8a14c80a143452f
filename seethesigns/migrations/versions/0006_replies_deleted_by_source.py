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
    # replies are all still visible. A plain ALTER TABLE, not batch mode: rebuilding `replies`
    # with foreign keys on would drop it, and the drop would cascade to seen_replies.
    op.add_column('replies', sa.Column('deleted_by_source', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    # SQLite >= 3.35 (Debian 12 has 3.40) drops a column in place, again without a rebuild.
    op.drop_column('replies', 'deleted_by_source')
