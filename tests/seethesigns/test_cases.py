"""Case handling: status, assignee, note and labels, validated; the star; gone with the source."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seethesigns.cases import (
    MAX_LABELS,
    MAX_NOTE_CHARS,
    CaseError,
    add_label,
    case_of,
    normalize_label,
    remove_label,
    set_starred,
    staff_choices,
    update_case,
)
from seethesigns.models import Case, CaseLabel, Source
from seethesigns.settings import Settings
from seethesigns.sources import LoggedInSource, delete_source
from seethesigns.staff_accounts import NewStaff, StaffAccounts
from seethesigns.storage import Store


@pytest.fixture
def casey(db: Session, settings: Settings) -> NewStaff:
    """A staff member to assign cases to."""
    return StaffAccounts(settings.argon2, settings.login).create(db, "casey")


def test_an_untouched_source_is_new_unassigned_and_unlabelled(
    db: Session, source: LoggedInSource
) -> None:
    case = case_of(db, source.source)
    assert (case.status, case.status_name, case.assignee_id, case.note, case.labels) == (
        "new",
        "New",
        None,
        "",
        [],
    )
    assert db.scalar(select(func.count()).select_from(Case)) == 0  # nothing stored for it


def test_status_assignee_and_note_round_trip(
    db: Session, source: LoggedInSource, casey: NewStaff
) -> None:
    update_case(
        db, source.source, status="referred", assignee=casey.staff.uuid, note="  Called LADO.\r\n"
    )
    case = case_of(db, source.source)
    assert (case.status_name, case.assignee_id, case.note) == (
        "Referred",
        casey.staff.id,
        "Called LADO.",
    )
    assert case.updated_at is not None
    update_case(db, source.source, status="closed", assignee="", note="   ")
    case = case_of(db, source.source)
    assert (case.status, case.assignee_id, case.note) == ("closed", None, "")
    assert db.get(Case, source.source.id).note is None


@pytest.mark.parametrize(
    ("status", "assignee", "note", "message"),
    [
        ("open", "", "", "choose one of the listed statuses"),
        ("", "", "", "choose one of the listed statuses"),
        ("new", "00000000-0000-4000-8000-000000000000", "", "no longer exists"),
        ("new", "", "x" * (MAX_NOTE_CHARS + 1), f"at most {MAX_NOTE_CHARS} characters"),
    ],
)
def test_a_refused_change_changes_nothing(
    db: Session,
    source: LoggedInSource,
    casey: NewStaff,
    status: str,
    assignee: str,
    note: str,
    message: str,
) -> None:
    update_case(db, source.source, status="in_review", assignee=casey.staff.uuid, note="kept")
    with pytest.raises(CaseError, match=message):
        update_case(db, source.source, status=status, assignee=assignee, note=note)
    db.rollback()
    case = case_of(db, source.source)
    assert (case.status, case.assignee_id, case.note) == ("in_review", casey.staff.id, "kept")


def test_a_note_of_exactly_the_limit_is_kept(db: Session, source: LoggedInSource) -> None:
    update_case(db, source.source, status="new", assignee="", note="n" * MAX_NOTE_CHARS)
    assert case_of(db, source.source).note == "n" * MAX_NOTE_CHARS


def test_labels_are_normalised_kept_once_and_removed(db: Session, source: LoggedInSource) -> None:
    assert add_label(db, source.source, "  Knife   CRIME ") == "knife crime"
    add_label(db, source.source, "knife crime")
    add_label(
        db, source.source, "\uff33\uff43\uff48\uff4f\uff4f\uff4c"
    )  # full-width "School": NFKC
    assert case_of(db, source.source).labels == ["knife crime", "school"]
    remove_label(db, source.source, "KNIFE crime")
    remove_label(db, source.source, "never added")
    assert case_of(db, source.source).labels == ["school"]


@pytest.mark.parametrize(
    ("text", "message"),
    [("   ", "cannot be empty"), ("x" * 65, "at most 64"), ("tab\x00bed", "printable")],
)
def test_unusable_labels_are_refused(text: str, message: str) -> None:
    with pytest.raises(CaseError, match=message):
        normalize_label(text)


def test_a_source_has_at_most_so_many_labels(db: Session, source: LoggedInSource) -> None:
    for n in range(MAX_LABELS):
        add_label(db, source.source, f"label {n}")
    with pytest.raises(CaseError, match=f"at most {MAX_LABELS} labels"):
        add_label(db, source.source, "one more")
    db.rollback()
    add_label(db, source.source, "label 3")  # one it already has is still fine
    assert len(case_of(db, source.source).labels) == MAX_LABELS


def test_starring_counts_what_exists_and_leaves_activity_alone(
    db: Session, source: LoggedInSource
) -> None:
    before = source.source.last_updated
    assert set_starred(db, [source.source.uuid, "no-such-uuid"], True) == 1
    db.refresh(source.source)
    assert source.source.is_starred and source.source.last_updated == before
    assert set_starred(db, [source.source.uuid], False) == 1
    db.refresh(source.source)
    assert not source.source.is_starred
    assert set_starred(db, [], True) == 0


def test_case_and_labels_go_with_the_source(
    db: Session, source: LoggedInSource, casey: NewStaff, store: Store
) -> None:
    update_case(db, source.source, status="in_review", assignee=casey.staff.uuid, note="note")
    add_label(db, source.source, "label")
    delete_source(db, store, source.source)
    for table in (Source, Case, CaseLabel):
        assert db.scalar(select(func.count()).select_from(table)) == 0


def test_staff_choices_are_everyone_by_username(
    db: Session, casey: NewStaff, settings: Settings
) -> None:
    StaffAccounts(settings.argon2, settings.login).create(db, "ash")
    assert [member.username for member in staff_choices(db)] == ["ash", "casey"]
