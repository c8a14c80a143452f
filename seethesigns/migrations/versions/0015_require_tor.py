"""require Tor: the HTTPS front takes no reports when an admin says so (issue 17)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 20:10:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'instance_config',
        sa.Column('require_tor', sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column('instance_config', 'require_tor')
