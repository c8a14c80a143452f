"""submissions_version: bumped by triggers when a source's submissions change (issue 16)

The Journalist API keeps each source's JSON (journalist_interface/api/source_fragments.py)
and checks it against a stamp read from one small index. The counts of messages and documents
in that JSON come from the submissions table; this number changes whenever one of the source's
submissions is added, changed or removed, so the stamp changes with them without counting
200,000 rows on every sync. The index holds every other column the JSON shows but the key
(whose fingerprint is in it), so the stamp is read without touching the wide rows.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 10:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

STAMP_COLUMNS = [
    'urgent', 'id', 'interaction_count', 'team_id', 'is_starred', 'last_updated',
    'submissions_version', 'uuid', 'pgp_fingerprint',
]
BUMP = "UPDATE sources SET submissions_version = submissions_version + 1 WHERE id = {row}.source_id"
EVENTS = (('INSERT', 'NEW'), ('UPDATE', 'NEW'), ('DELETE', 'OLD'))


def upgrade() -> None:
    op.add_column(
        'sources',
        sa.Column('submissions_version', sa.Integer(), server_default='0', nullable=False),
    )
    op.create_index('ix_sources_api_stamp', 'sources', STAMP_COLUMNS, unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "CREATE FUNCTION submissions_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF TG_OP = 'DELETE' THEN " + BUMP.format(row='OLD') + ";"
            " ELSE " + BUMP.format(row='NEW') + "; END IF; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER submissions_version AFTER INSERT OR UPDATE OR DELETE ON submissions"
            " FOR EACH ROW EXECUTE FUNCTION submissions_version_bump()"
        )
    else:
        for event, row in EVENTS:
            op.execute(
                f"CREATE TRIGGER submissions_version_{event.lower()} AFTER {event} ON submissions"
                f" BEGIN {BUMP.format(row=row)}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER submissions_version ON submissions")
        op.execute("DROP FUNCTION submissions_version_bump()")
    else:
        for event, _ in EVENTS:
            op.execute(f"DROP TRIGGER submissions_version_{event.lower()}")
    op.drop_index('ix_sources_api_stamp', table_name='sources')
    op.drop_column('sources', 'submissions_version')
