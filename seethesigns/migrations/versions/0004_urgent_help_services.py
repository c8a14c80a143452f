"""urgent help services

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 08:16:15.427319
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The services every source page names under "Need help now?"; an existing row gets the
    # UK-wide defaults through the server defaults.
    with op.batch_alter_table('instance_config', schema=None) as batch_op:
        batch_op.add_column(sa.Column('emergency_number', sa.String(length=32), nullable=False, server_default='999'))
        batch_op.add_column(sa.Column('helpline_name', sa.String(length=64), nullable=False, server_default='Childline'))
        batch_op.add_column(sa.Column('helpline_contact', sa.String(length=64), nullable=False, server_default='0800 1111'))
        batch_op.add_column(sa.Column('anonymous_service_name', sa.String(length=64), nullable=False, server_default='Fearless'))
        batch_op.add_column(sa.Column('anonymous_service_contact', sa.String(length=64), nullable=False, server_default='fearless.org'))


def downgrade() -> None:
    with op.batch_alter_table('instance_config', schema=None) as batch_op:
        batch_op.drop_column('anonymous_service_contact')
        batch_op.drop_column('anonymous_service_name')
        batch_op.drop_column('helpline_contact')
        batch_op.drop_column('helpline_name')
        batch_op.drop_column('emergency_number')
