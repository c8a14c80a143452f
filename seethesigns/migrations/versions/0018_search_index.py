"""search index: a source list search finds its candidates without a scan (issue 16)

The staff list's `?q=` matches a source whose designation, one of its labels or its case note
holds the text. Without an index a search that matches nothing read every one of them: 26 to
57 ms at 50,000 sources against 8 to 9 at 100. Both indexes below work on trigrams (every run
of three characters), so any text of three or more characters finds the few sources that may
hold it; the list still checks each one exactly (journalist_interface/source_search.py).

SQLite: an FTS5 table with the trigram tokenizer, one row per source (its rowid the source's
id) holding the designation, the labels and the note, one to a line. Triggers on sources,
case_labels and cases rebuild a source's row whenever one of those texts changes, so every
writer (web, API, CLI, retention) keeps it right. One row per source, not one per text: the
triggers then find the row to replace by its rowid; FTS5 cannot look a row up by any other
column without reading the whole table. FTS5 keeps a replaced text in its older segments
until they are merged (SQLite 3.40 has no secure-delete for FTS5), so forget_deleted merges
them (seethesigns/db.py).

PostgreSQL: pg_trgm's GIN indexes on the three columns, which serve the ILIKE that
SQLAlchemy writes for the list's case-insensitive match, and which the database keeps itself. pg_trgm is a trusted
extension (PostgreSQL 13 and later), so the deployment's role, which owns its database
(ansible/roles/host/tasks/postgresql.yml), may create it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 13:40:00.000000
"""

from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# The text of source {id}: designation, labels, note, one to a line (a search for text that
# spans two lines may find a candidate the exact check then turns down).
DOCUMENT = (
    "SELECT s.id, s.designation"
    " || char(10) || coalesce((SELECT group_concat(l.label, char(10)) FROM case_labels l"
    " WHERE l.source_id = s.id), '')"
    " || char(10) || coalesce((SELECT c.note FROM cases c WHERE c.source_id = s.id), '')"
    " FROM sources s"
)


def _rebuild(source: str) -> str:
    """Replace one source's row; a source already deleted (a cascade) gets none."""
    return (
        f"DELETE FROM source_search WHERE rowid = {source};"
        f" INSERT INTO source_search (rowid, doc) {DOCUMENT} WHERE s.id = {source};"
    )


# (name, table, event, statements)
SQLITE_TRIGGERS = [
    ("search_source_insert", "sources", "INSERT", _rebuild("NEW.id")),
    ("search_source_update", "sources", "UPDATE OF designation", _rebuild("NEW.id")),
    ("search_source_delete", "sources", "DELETE", "DELETE FROM source_search WHERE rowid = OLD.id;"),
    ("search_label_insert", "case_labels", "INSERT", _rebuild("NEW.source_id")),
    ("search_label_update", "case_labels", "UPDATE", _rebuild("OLD.source_id") + _rebuild("NEW.source_id")),
    ("search_label_delete", "case_labels", "DELETE", _rebuild("OLD.source_id")),
    ("search_case_insert", "cases", "INSERT", _rebuild("NEW.source_id")),
    ("search_case_update", "cases", "UPDATE OF note, source_id", _rebuild("OLD.source_id") + _rebuild("NEW.source_id")),
    ("search_case_delete", "cases", "DELETE", _rebuild("OLD.source_id")),
]
# (index, table, column)
TRIGRAM_INDEXES = [
    ('ix_sources_designation_trgm', 'sources', 'designation'),
    ('ix_case_labels_label_trgm', 'case_labels', 'label'),
    ('ix_cases_note_trgm', 'cases', 'note'),
]


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, column in TRIGRAM_INDEXES:
            op.execute(f"CREATE INDEX {name} ON {table} USING gin ({column} gin_trgm_ops)")
        return
    op.execute("CREATE VIRTUAL TABLE source_search USING fts5(doc, tokenize='trigram')")
    op.execute(f"INSERT INTO source_search (rowid, doc) {DOCUMENT}")
    for name, table, event, statements in SQLITE_TRIGGERS:
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {statements} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name, _, _ in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX {name}")
        # pg_trgm stays: it may have been there before, and it costs nothing unused.
        return
    for name, *_ in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP TABLE source_search")
