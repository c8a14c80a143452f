"""sync state: a token the database replaces on every change the Journalist API lists (issue 16)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 08:00:00.000000
"""

import secrets

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# What the API's /sources, /submissions and /replies are built from. A staff member's name is
# in every reply they wrote; their other columns (last login, lockout) are in no list.
WATCHED = ('sources', 'submissions', 'replies', 'seen_submissions', 'seen_replies')
STAFF_NAMES = 'username, display_name, uuid'


def _sqlite_triggers() -> list[str]:
    bump = "UPDATE sync_state SET token = lower(hex(randomblob(16))) WHERE id = 1;"
    found = [
        f"CREATE TRIGGER sync_{table}_{event.lower()} AFTER {event} ON {table} BEGIN {bump} END"
        for table in WATCHED
        for event in ('INSERT', 'UPDATE', 'DELETE')
    ]
    found.append(f"CREATE TRIGGER sync_staff_update AFTER UPDATE OF {STAFF_NAMES} ON staff BEGIN {bump} END")
    return found


def _postgresql_triggers() -> list[str]:
    # Deferred to commit: every writer then takes the one row's lock last, when it holds all
    # its other locks already, so two writers cannot deadlock over it.
    function = """
        CREATE FUNCTION sync_state_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE sync_state
               SET token = md5(random()::text || clock_timestamp()::text),
                   changed_xact = txid_current()
             WHERE id = 1 AND changed_xact IS DISTINCT FROM txid_current();
            RETURN NULL;
        END $$"""
    found = [function]
    for table in WATCHED:
        found.append(
            f"CREATE CONSTRAINT TRIGGER sync_{table} AFTER INSERT OR UPDATE OR DELETE ON {table}"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sync_state_changed()"
        )
    found.append(
        f"CREATE CONSTRAINT TRIGGER sync_staff AFTER UPDATE OF {STAFF_NAMES} ON staff"
        " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sync_state_changed()"
    )
    return found


def upgrade() -> None:
    op.create_table(
        'sync_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('changed_xact', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_state')),
    )
    op.execute(sa.text("INSERT INTO sync_state (id, token) VALUES (1, :token)").bindparams(token=secrets.token_hex(16)))
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for statement in _postgresql_triggers() if postgresql else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in (*WATCHED, 'staff'):
            op.execute(f"DROP TRIGGER sync_{table} ON {table}")
        op.execute("DROP FUNCTION sync_state_changed()")
    else:
        for table in WATCHED:
            for event in ('insert', 'update', 'delete'):
                op.execute(f"DROP TRIGGER sync_{table}_{event}")
        op.execute("DROP TRIGGER sync_staff_update")
    op.drop_table('sync_state')
