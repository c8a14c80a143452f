"""who reads a report, and who it may be shared with (issue 14)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 19:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# The defaults of seethesigns/instance_settings.py, written out: a migration must not change
# when the code's defaults do.
READERS = 'a team of social workers'
SHARED_WITH = 'the police, or a doctor or nurse'


def upgrade() -> None:
    # Plain ADD COLUMNs, never a batch rebuild (see 0007 and 0010); an existing row gets the
    # defaults through the server defaults.
    op.add_column('instance_config', sa.Column('readers', sa.String(length=120), nullable=False, server_default=READERS))
    op.add_column('instance_config', sa.Column('shared_with', sa.String(length=120), nullable=False, server_default=SHARED_WITH))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35 and later), for the same reason.
    op.drop_column('instance_config', 'shared_with')
    op.drop_column('instance_config', 'readers')
