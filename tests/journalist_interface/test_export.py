"""Which stored files a bulk download takes: by source, by item, or everything unread."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from journalist_interface.export import BATCH, entries, of_items, of_sources, unread_by
from journalist_interface.inbox import items_of, mark_seen
from seethesigns.models import Submission
from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff
from seethesigns.storage import Store
from tests.journalist_interface.test_inbox import add_source


def test_selected_items_never_include_another_sources(
    open_db: sessionmaker[Session], settings: Settings, alice: NewStaff
) -> None:
    store = Store(settings.store_dir)
    with open_db() as db:
        ours = add_source(db, 1, items=["1-msg", "2-reply"], designation="gentle otter")
        theirs = add_source(db, 2, items=["1-msg"], designation="calm heron")
        our_items = [item.row for item in items_of(db, ours, alice.staff)]
        their_item = items_of(db, theirs, alice.staff)[0].row
        wanted = [item.uuid for item in our_items] + [their_item.uuid]
        found = list(entries(db, store, of_items(ours, wanted)))
        assert [(entry.kind, entry.filename) for entry in found] == [
            ("submission", "1-gentle_otter-msg.gpg"),
            ("reply", "2-gentle_otter-reply.gpg"),
        ]
        assert found[0].path == store.path(ours.filesystem_id, "1-gentle_otter-msg.gpg")
        assert found[0].arcname == "gentle_otter/1-gentle_otter-msg.gpg"
        assert list(entries(db, store, of_items(theirs, [our_items[0].uuid]))) == []
        assert len(list(entries(db, store, of_sources([ours.id, theirs.id])))) == 3


def test_unread_takes_only_what_this_person_has_not_seen(
    open_db: sessionmaker[Session], settings: Settings, alice: NewStaff
) -> None:
    store = Store(settings.store_dir)
    with open_db() as db:
        source = add_source(db, 1, items=["1-msg", "2-doc", "3-reply"], designation="gentle otter")
        mark_seen(db, alice.staff, items_of(db, source, alice.staff)[1].row)
        found = [entry.filename for entry in entries(db, store, unread_by(alice.staff))]
    assert found == ["1-gentle_otter-msg.gpg", "3-gentle_otter-reply.gpg"]


def test_many_items_are_read_in_batches_and_none_is_missed(
    open_db: sessionmaker[Session], settings: Settings
) -> None:
    count = BATCH * 2 + 7
    with open_db() as db:
        source = add_source(db, 1, items=[], designation="gentle otter")
        rows = [
            {
                "source_id": source.id,
                "filename": f"{n}-gentle_otter-msg.gpg",
                "size": 1,
                "checksum": "-",
            }
            for n in range(1, count + 1)
        ]
        db.execute(insert(Submission), rows)
        db.commit()
        found = [
            entry.id for entry in entries(db, Store(settings.store_dir), of_sources([source.id]))
        ]
    assert len(found) == count == len(set(found))
    assert found == sorted(found)
