"""cases: one index on (assignee_id, status) for "mine, with this status"

The list's "assigned to me" filter with a status first counts the matching cases (up to
2,001, to choose between a lookup by id and a walk). With an index on assignee_id alone,
SQLite read each assigned case's row to check its status: at 50,000 sources, thousands of
rows, and from disk whenever another connection had written since (issue 16). This index
answers it alone. Its first column serves everything the old assignee_id index did.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 14:30:00.000000
"""

from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_assignee_status', ['assignee_id', 'status'], unique=False)
        batch_op.drop_index('ix_cases_assignee_id')


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_assignee_id', ['assignee_id'], unique=False)
        batch_op.drop_index('ix_cases_assignee_status')
