"""neutral title and quick exit

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# The defaults of seethesigns/instance_settings.py, written out: a migration must not change
# when the code's defaults do.
SITE_TITLE = 'Notes'
EXIT_URL = 'https://www.bbcweb3hytmzhn5d532owbu6oqadra5z3ar726vq5kgwwn6aucdccrad.onion/news'


def upgrade() -> None:
    # Every source page's browser title, and where the quick exit goes (issue 12); an existing
    # row gets the defaults through the server defaults.
    with op.batch_alter_table('instance_config', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site_title', sa.String(length=64), nullable=False, server_default=SITE_TITLE))
        batch_op.add_column(sa.Column('exit_url', sa.String(length=512), nullable=False, server_default=EXIT_URL))


def downgrade() -> None:
    with op.batch_alter_table('instance_config', schema=None) as batch_op:
        batch_op.drop_column('exit_url')
        batch_op.drop_column('site_title')
