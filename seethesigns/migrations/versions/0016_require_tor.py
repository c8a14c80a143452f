"""require Tor: the HTTPS front takes no reports when an admin says so (issue 17)

Revision ID: 0016
Revises: 0013 (re-chain to 0015 at merge: 0014 and 0015 are being added in parallel)
Create Date: 2026-12-02 20:10:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'instance_config',
        sa.Column('require_tor', sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column('instance_config', 'require_tor')
