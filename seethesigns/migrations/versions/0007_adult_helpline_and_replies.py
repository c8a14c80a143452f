"""adult helpline, reply time and waiting for a first reply

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 16:10:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# The defaults of seethesigns/instance_settings.py, written out: a migration must not change
# when the code's defaults do.
ADULT_HELPLINE_NAME = 'NSPCC'
ADULT_HELPLINE_CONTACT = '0808 800 5000'
REPLY_WITHIN_HOURS = '24'
WAIT_MINUTES = '10'


def upgrade() -> None:
    # Plain ADD COLUMNs, not batch mode: a batch rebuild of instance_config is not needed to
    # add columns with server defaults, and an existing row gets the defaults through them.
    op.add_column('instance_config', sa.Column('adult_helpline_name', sa.String(length=64), nullable=False, server_default=ADULT_HELPLINE_NAME))
    op.add_column('instance_config', sa.Column('adult_helpline_contact', sa.String(length=64), nullable=False, server_default=ADULT_HELPLINE_CONTACT))
    op.add_column('instance_config', sa.Column('reply_within_hours', sa.Integer(), nullable=False, server_default=REPLY_WITHIN_HOURS))
    op.add_column('instance_config', sa.Column('wait_for_reply_offered', sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column('instance_config', sa.Column('wait_for_reply_minutes', sa.Integer(), nullable=False, server_default=WAIT_MINUTES))


def downgrade() -> None:
    with op.batch_alter_table('instance_config', schema=None) as batch_op:
        batch_op.drop_column('wait_for_reply_minutes')
        batch_op.drop_column('wait_for_reply_offered')
        batch_op.drop_column('reply_within_hours')
        batch_op.drop_column('adult_helpline_contact')
        batch_op.drop_column('adult_helpline_name')
