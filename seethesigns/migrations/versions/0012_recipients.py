"""recipients: several submission keys per instance (issue 14)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 17:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A new table only: the configured submission key becomes its first row when the
    # application next starts (seethesigns/recipients.py), as only it can read the keyring.
    op.create_table(
        'recipients',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('fingerprint', sa.String(length=40), nullable=False),
        sa.Column('public_key', sa.Text(), nullable=False),
        sa.Column('key_ids', sa.String(length=200), nullable=False),
        sa.Column('added_at', sa.DateTime(), nullable=False),
        sa.Column('retired_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recipients')),
        sa.UniqueConstraint('fingerprint', name=op.f('uq_recipients_fingerprint')),
    )


def downgrade() -> None:
    op.drop_table('recipients')
