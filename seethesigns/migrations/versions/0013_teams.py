"""teams: membership, owning team of cases, keys and alerts; shared copies (issue 14)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 19:10:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# What an instance from before teams calls its one team; an admin can rename it.
FIRST_TEAM = 'Front door'


def upgrade() -> None:
    op.create_table(
        'teams',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uuid', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('is_front_door', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
        sa.UniqueConstraint('name', name=op.f('uq_teams_name')),
        sa.UniqueConstraint('uuid', name=op.f('uq_teams_uuid')),
    )
    op.create_table(
        'team_members',
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_team_members_staff_id_staff'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_members_team_id_teams'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('team_id', 'staff_id', name=op.f('pk_team_members')),
    )
    op.create_index(op.f('ix_team_members_staff_id'), 'team_members', ['staff_id'], unique=False)
    # Plain ADD COLUMN without a foreign key (see seethesigns/models/team.py): never a batch
    # rebuild of a referenced table, which cascades the drop to every dependent row.
    op.add_column('sources', sa.Column('team_id', sa.Integer(), nullable=True))
    op.add_column('submissions', sa.Column('shared_with_team_id', sa.Integer(), nullable=True))
    op.add_column('recipients', sa.Column('team_id', sa.Integer(), nullable=True))
    op.add_column('alert_events', sa.Column('team_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_submissions_shared_with_team_id'), 'submissions', ['shared_with_team_id'], unique=False)
    op.create_index(op.f('ix_recipients_team_id'), 'recipients', ['team_id'], unique=False)
    op.create_index(op.f('ix_alert_events_team_id'), 'alert_events', ['team_id'], unique=False)
    op.create_index(
        'ix_sources_team_order',
        'sources',
        ['team_id', 'urgent', 'is_starred', 'last_updated', 'id', 'designation', 'interaction_count'],
        unique=False,
    )
    # Everything that exists belongs to one first team, the front door, so nobody loses sight
    # of anything: every staff member is in it, and it owns every case and key.
    teams = sa.table(
        'teams',
        sa.column('id', sa.Integer()),
        sa.column('uuid', sa.String()),
        sa.column('name', sa.String()),
        sa.column('is_front_door', sa.Boolean()),
        sa.column('created_at', sa.DateTime()),
    )
    import uuid
    from datetime import datetime, timezone

    op.bulk_insert(
        teams,
        [
            {
                'id': 1,
                'uuid': str(uuid.uuid4()),
                'name': FIRST_TEAM,
                'is_front_door': True,
                'created_at': datetime.now(timezone.utc).replace(tzinfo=None),
            }
        ],
    )
    if op.get_bind().dialect.name == 'postgresql':
        # The row above took id 1 by hand; the next team must not be given it again.
        op.execute("SELECT setval(pg_get_serial_sequence('teams', 'id'), 1)")
    op.execute('INSERT INTO team_members (team_id, staff_id) SELECT 1, id FROM staff')
    op.execute('UPDATE sources SET team_id = 1')
    op.execute('UPDATE recipients SET team_id = 1')


def downgrade() -> None:
    # Shared copies are encrypted to keys the one remaining pool may not hold; they stay as
    # items (the column goes), so nothing of the record is lost.
    op.drop_index('ix_sources_team_order', table_name='sources')
    op.drop_index(op.f('ix_alert_events_team_id'), table_name='alert_events')
    op.drop_index(op.f('ix_recipients_team_id'), table_name='recipients')
    op.drop_index(op.f('ix_submissions_shared_with_team_id'), table_name='submissions')
    op.drop_column('alert_events', 'team_id')
    op.drop_column('recipients', 'team_id')
    op.drop_column('submissions', 'shared_with_team_id')
    op.drop_column('sources', 'team_id')
    op.drop_index(op.f('ix_team_members_staff_id'), table_name='team_members')
    op.drop_table('team_members')
    op.drop_table('teams')
