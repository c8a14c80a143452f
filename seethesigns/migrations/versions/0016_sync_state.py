"""sync state and unread sources: kept by the database's own triggers (issue 16)

sync_state holds a token replaced on every change the Journalist API lists, for its Etags.
unread_sources holds, per staff member, the sources that may have news for them, so the staff
list's unread filter reads those instead of checking every source.

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


# Rows of unread_sources, added (never too few) and taken away (only when nothing is unseen).
# {ignore}/{conflict}: SQLite's and PostgreSQL's spelling of "skip a row already there".
ADD = "INSERT {ignore}INTO unread_sources (staff_id, source_id) "
MEMBERS_OF = "SELECT m.staff_id FROM team_members m WHERE m.team_id = "
OWNER_OF = "(SELECT o.team_id FROM sources o WHERE o.id = NEW.source_id)"


def _teams_of(staff: str) -> str:
    return f"(SELECT t.team_id FROM team_members t WHERE t.staff_id = {staff})"


def _sees_submission(staff: str, item: str, source: str) -> str:
    """The reach rules of seethesigns/teams/reach.py, as SQL: may staff see this submission?"""
    owner = f"(SELECT o.team_id FROM sources o WHERE o.id = {source})"
    return (
        f"((SELECT a.is_admin FROM staff a WHERE a.id = {staff})"
        f" OR ({item}.shared_with_team_id IS NULL AND {owner} IN {_teams_of(staff)})"
        f" OR {item}.shared_with_team_id IN {_teams_of(staff)})"
    )


def _sees_replies(staff: str, source: str) -> str:
    """May staff see this source's replies (only the owning team and admins)?"""
    owner = f"(SELECT o.team_id FROM sources o WHERE o.id = {source})"
    return f"((SELECT a.is_admin FROM staff a WHERE a.id = {staff}) OR {owner} IN {_teams_of(staff)})"


def _unseen_submission(staff: str, source: str) -> str:
    return (
        f"EXISTS (SELECT 1 FROM submissions s WHERE s.source_id = {source}"
        f" AND {_sees_submission(staff, 's', source)}"
        " AND NOT EXISTS (SELECT 1 FROM seen_submissions x WHERE x.submission_id = s.id"
        f" AND x.staff_id = {staff}))"
    )


def _unseen_reply(staff: str, source: str) -> str:
    return (
        f"EXISTS (SELECT 1 FROM replies r WHERE r.source_id = {source}"
        f" AND r.staff_id IS DISTINCT FROM {staff} AND {_sees_replies(staff, source)}"
        " AND NOT EXISTS (SELECT 1 FROM seen_replies y WHERE y.reply_id = r.id"
        f" AND y.staff_id = {staff}))"
    )


# Nothing left that they may see and have not: the row goes.
UNSEEN = (
    f" AND NOT {_unseen_submission('NEW.staff_id', 'unread_sources.source_id')}"
    f" AND NOT {_unseen_reply('NEW.staff_id', 'unread_sources.source_id')}"
)
# On PostgreSQL a new item and a seen mark of the same source take turns on the source's row:
# else a seen mark's check, not yet seeing the new item, could take its row away (the
# function's next statement reads afresh once the lock is granted).
LOCK_NEW_SOURCE = "PERFORM 1 FROM sources WHERE id = NEW.source_id FOR UPDATE"
# (name, table, event, only when, PostgreSQL lock first, statement)
UNREAD_TRIGGERS = [
    (
        "unread_submission", "submissions", "INSERT", None, LOCK_NEW_SOURCE,
        # Only whom reach.py lets see it: a shared copy is for its team, not the owner's.
        ADD + "SELECT staff.id, NEW.source_id FROM staff WHERE staff.is_admin OR staff.id IN ("
        + MEMBERS_OF + "COALESCE(NEW.shared_with_team_id, " + OWNER_OF + ")){conflict}",
    ),
    (
        "unread_reply", "replies", "INSERT", None, LOCK_NEW_SOURCE,
        ADD + "SELECT staff.id, NEW.source_id FROM staff WHERE staff.id IS DISTINCT FROM"
        " NEW.staff_id AND (staff.is_admin OR staff.id IN (" + MEMBERS_OF + OWNER_OF + ")){conflict}",
    ),
    (
        "unread_handover", "sources", "UPDATE OF team_id", None, None,
        ADD + "SELECT m.staff_id, NEW.id FROM team_members m WHERE m.team_id = NEW.team_id{conflict}",
    ),
    (
        "unread_team_join", "team_members", "INSERT", None, None,
        ADD + "SELECT NEW.staff_id, id FROM sources WHERE team_id = NEW.team_id UNION"
        " SELECT NEW.staff_id, source_id FROM submissions WHERE shared_with_team_id = NEW.team_id"
        "{conflict}",
    ),
    (
        "unread_new_admin", "staff", "INSERT", "NEW.is_admin", None,
        ADD + "SELECT NEW.id, id FROM sources{conflict}",
    ),
    (
        "unread_made_admin", "staff", "UPDATE OF is_admin", "NEW.is_admin", None,
        ADD + "SELECT NEW.id, id FROM sources{conflict}",
    ),
    (
        "unread_unseen_submission", "seen_submissions", "DELETE", None, None,
        ADD + "SELECT OLD.staff_id, s.source_id FROM submissions s WHERE s.id = OLD.submission_id"
        " AND EXISTS (SELECT 1 FROM staff WHERE staff.id = OLD.staff_id){conflict}",
    ),
    (
        "unread_unseen_reply", "seen_replies", "DELETE", None, None,
        ADD + "SELECT OLD.staff_id, r.source_id FROM replies r WHERE r.id = OLD.reply_id"
        " AND EXISTS (SELECT 1 FROM staff WHERE staff.id = OLD.staff_id){conflict}",
    ),
    (
        "unread_seen_submission", "seen_submissions", "INSERT", None,
        "PERFORM 1 FROM sources WHERE id = (SELECT source_id FROM submissions"
        " WHERE id = NEW.submission_id) FOR SHARE",
        "DELETE FROM unread_sources WHERE staff_id = NEW.staff_id AND source_id = (SELECT"
        " source_id FROM submissions WHERE id = NEW.submission_id)" + UNSEEN,
    ),
    (
        "unread_seen_reply", "seen_replies", "INSERT", None,
        "PERFORM 1 FROM sources WHERE id = (SELECT source_id FROM replies"
        " WHERE id = NEW.reply_id) FOR SHARE",
        "DELETE FROM unread_sources WHERE staff_id = NEW.staff_id AND source_id = (SELECT"
        " source_id FROM replies WHERE id = NEW.reply_id)" + UNSEEN,
    ),
]


def _unread_sqlite() -> list[str]:
    found = []
    for name, table, event, when, _, statement in UNREAD_TRIGGERS:
        sql = statement.format(ignore="OR IGNORE ", conflict="")
        condition = f" WHEN {when}" if when else ""
        found.append(f"CREATE TRIGGER {name} AFTER {event} ON {table}{condition} BEGIN {sql}; END")
    return found


def _unread_postgresql() -> list[str]:
    found = []
    for name, table, event, when, lock, statement in UNREAD_TRIGGERS:
        sql = statement.format(ignore="", conflict=" ON CONFLICT DO NOTHING") + ";"
        if lock:
            sql = f"{lock}; {sql}"
        if when:
            sql = f"IF {when} THEN {sql} END IF;"
        found.append(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {sql} RETURN NULL; END $$"
        )
        found.append(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
        )
    return found


# Every staff member's sources with something they may see and have not: where it starts.
START_UNREAD = (
    "INSERT INTO unread_sources (staff_id, source_id)"
    " SELECT staff.id, sources.id FROM staff JOIN sources ON "
    + _unseen_submission("staff.id", "sources.id")
    + " OR "
    + _unseen_reply("staff.id", "sources.id")
)


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
    op.create_table(
        'unread_sources',
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_unread_sources_source_id_sources'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_unread_sources_staff_id_staff'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('staff_id', 'source_id', name=op.f('pk_unread_sources')),
    )
    op.create_index(op.f('ix_unread_sources_source_id'), 'unread_sources', ['source_id'], unique=False)
    op.execute(START_UNREAD)
    for statement in _unread_postgresql() if postgresql else _unread_sqlite():
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == 'postgresql'
    for name, table, *_ in UNREAD_TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {table}" if postgresql else f"DROP TRIGGER {name}")
        if postgresql:
            op.execute(f"DROP FUNCTION {name}()")
    op.drop_index(op.f('ix_unread_sources_source_id'), table_name='unread_sources')
    op.drop_table('unread_sources')
    if postgresql:
        for table in (*WATCHED, 'staff'):
            op.execute(f"DROP TRIGGER sync_{table} ON {table}")
        op.execute("DROP FUNCTION sync_state_changed()")
    else:
        for table in WATCHED:
            for event in ('insert', 'update', 'delete'):
                op.execute(f"DROP TRIGGER sync_{table}_{event}")
        op.execute("DROP TRIGGER sync_staff_update")
    op.drop_table('sync_state')
