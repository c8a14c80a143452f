"""source list index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 08:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One index serves the staff source list's order, keyset paging and designation search;
    # it starts with is_starred, so the index on is_starred alone is redundant.
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_index('ix_sources_is_starred')
        batch_op.create_index(
            'ix_sources_list_order',
            ['is_starred', 'last_updated', 'id', 'designation'],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_index('ix_sources_list_order')
        batch_op.create_index('ix_sources_is_starred', ['is_starred'], unique=False)
