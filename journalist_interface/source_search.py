"""The source list's search: the few sources that may hold a text, found from an index.

A source matches when its designation, one of its labels or its case note holds the text,
whatever the case. Checking that for every source read every designation, label and note: a
search that matched nothing took 26 to 57 ms at 50,000 sources, against 8 to 9 at 100 (issue
16). Migration 0018 indexes those texts by trigram (every run of three characters): SQLite's
FTS5 with the trigram tokenizer, PostgreSQL's pg_trgm. The index only narrows: every candidate
is checked exactly as before (`holds`), so what a search finds is what it found without it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CompoundSelect, Select, column, exists, literal_column, or_, select, table
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from seethesigns.db import SEARCH_INDEX
from seethesigns.models import Case, CaseLabel, Source

# Neither index finds a text shorter than one trigram: such a search reads every text, as
# before. It matches so many sources that the walk of the list stops at a page of them soon.
SHORTEST = 3
NOTE = aliased(Case)
SQLITE_INDEX = table(SEARCH_INDEX, column("rowid"))


def holds(text: str) -> ColumnElement[bool]:
    """True for a source whose designation, a label or the note holds the text (exactly).

    Each part looks at the source's own rows: for the few candidates the index found, a seek
    or two each, never a read of every label and note.
    """
    return or_(
        Source.designation.icontains(text, autoescape=True),
        exists().where(
            CaseLabel.source_id == Source.id, CaseLabel.label.icontains(text, autoescape=True)
        ),
        exists().where(NOTE.source_id == Source.id, NOTE.note.icontains(text, autoescape=True)),
    )


def scanned(text: str) -> ColumnElement[bool]:
    """The same test, for a walk of many sources: the labels and notes that match found once.

    They are found by reading those two small tables, and each source of the list is then
    looked up among them: never a subquery run per source walked.
    """
    matching = select(CaseLabel.source_id).where(CaseLabel.label.icontains(text, autoescape=True))
    notes = select(NOTE.source_id).where(NOTE.note.icontains(text, autoescape=True))
    return or_(
        Source.designation.icontains(text, autoescape=True),
        Source.id.in_(matching.union_all(notes)),
    )


def candidates(db: Session, text: str) -> Select[Any] | CompoundSelect | None:
    """The ids of every source that may hold the text (source_id), or None: no index helps.

    SQLite: an FTS5 phrase, quoted, so no character of the text is an operator; the trigram
    tokenizer folds case as lower() does, and more. A NUL would end the phrase early in FTS5.
    PostgreSQL: the same ILIKEs as the exact test, which pg_trgm's indexes serve; a text with
    no letters or digits has no trigram for them, and is read in full from those indexes,
    correct if not quick.
    """
    if len(text) < SHORTEST or "\x00" in text:
        return None
    if db.get_bind().dialect.name == "sqlite":
        phrase = '"' + text.replace('"', '""') + '"'
        return select(SQLITE_INDEX.c.rowid.label("source_id")).where(
            literal_column(SEARCH_INDEX).op("MATCH")(phrase)
        )
    return (
        select(Source.id.label("source_id"))
        .where(Source.designation.icontains(text, autoescape=True))
        .union_all(
            select(CaseLabel.source_id).where(CaseLabel.label.icontains(text, autoescape=True)),
            select(NOTE.source_id).where(NOTE.note.icontains(text, autoescape=True)),
        )
    )
