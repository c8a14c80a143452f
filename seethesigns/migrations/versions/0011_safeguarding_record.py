"""safeguarding record: stubs of deleted accounts, first downloads, recorded items

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 16:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs, not batch mode: rebuilding sources or submissions with foreign keys
    # on would cascade the drop to every item and seen mark (see 0006).
    op.add_column('sources', sa.Column('deleted_at', sa.DateTime(), nullable=True))
    op.add_column('submissions', sa.Column('downloaded_at', sa.DateTime(), nullable=True))
    # Until now a download marked the item seen by its downloader, so the first seen mark is
    # the first download of what was downloaded so far.
    op.execute(
        'UPDATE submissions SET downloaded_at = '
        '(SELECT min(seen_at) FROM seen_submissions WHERE submission_id = submissions.id)'
    )
    op.create_table(
        'recorded_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['source_id'], ['sources.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_recorded_items_source_id'), 'recorded_items', ['source_id'], unique=False)
    # The list leaves out codenames that never sent anything: interaction_count joins the list
    # index so that check never reads the wide rows holding the keys.
    op.drop_index('ix_sources_list_order', table_name='sources')
    op.create_index(
        'ix_sources_list_order',
        'sources',
        ['urgent', 'is_starred', 'last_updated', 'id', 'designation', 'interaction_count'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_sources_list_order', table_name='sources')
    op.create_index(
        'ix_sources_list_order',
        'sources',
        ['urgent', 'is_starred', 'last_updated', 'id', 'designation'],
        unique=False,
    )
    op.drop_index(op.f('ix_recorded_items_source_id'), table_name='recorded_items')
    op.drop_table('recorded_items')
    op.drop_column('submissions', 'downloaded_at')
    op.drop_column('sources', 'deleted_at')
