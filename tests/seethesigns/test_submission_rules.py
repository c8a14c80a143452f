"""The settings' rules for a source's first submission, with real codename derivation."""

from __future__ import annotations

import io

import pytest
from sqlalchemy.orm import Session

from seethesigns.codenames import CodenameDeriver, generate_codename
from seethesigns.encryption import GpgService
from seethesigns.instance_settings import Changes, update_settings
from seethesigns.models import InstanceConfig
from seethesigns.sources import LoggedInSource
from seethesigns.storage import Store
from seethesigns.submission_rules import SubmissionRefused, check_submission, is_own_codename
from seethesigns.submissions import Document, submit

LONG_ENOUGH = "someone older keeps giving me phones and asking me to go to other towns"


def configure(db: Session, **values: object) -> InstanceConfig:
    """Store settings: the defaults, with the given values changed."""
    changes = Changes("See the Signs", True, 0, False, None)
    return update_settings(db, Changes(**{**changes.__dict__, **values}))


def refusal(
    db: Session,
    deriver: CodenameDeriver,
    config: InstanceConfig,
    source: LoggedInSource,
    message: str,
    has_documents: bool = False,
) -> str | None:
    """The reason check_submission gives, or None if it lets the submission through."""
    try:
        check_submission(db, deriver, config, source.source, message, has_documents)
    except SubmissionRefused as refused:
        return refused.reason
    return None


def test_the_defaults_refuse_nothing(
    db: Session, deriver: CodenameDeriver, source: LoggedInSource, codename: str
) -> None:
    config = configure(db)
    assert refusal(db, deriver, config, source, "hi") is None
    assert refusal(db, deriver, config, source, codename, has_documents=True) is None


def test_files_are_refused_when_uploads_are_off(
    db: Session, deriver: CodenameDeriver, source: LoggedInSource
) -> None:
    config = configure(db, allow_uploads=False)
    assert refusal(db, deriver, config, source, LONG_ENOUGH, has_documents=True) == "uploads_off"
    assert refusal(db, deriver, config, source, LONG_ENOUGH) is None


def test_minimum_length_applies_to_the_first_submission_only(
    db: Session,
    deriver: CodenameDeriver,
    source: LoggedInSource,
    store: Store,
    gpg: GpgService,
) -> None:
    config = configure(db, min_message_length=len(LONG_ENOUGH))
    assert refusal(db, deriver, config, source, "help") == "too_short"
    assert refusal(db, deriver, config, source, "   help   " + " " * 100) == "too_short"
    assert refusal(db, deriver, config, source, "", has_documents=True) == "too_short"
    assert refusal(db, deriver, config, source, LONG_ENOUGH) is None
    submit(db, store, gpg, source.source, LONG_ENOUGH, [])
    assert refusal(db, deriver, config, source, "help") is None


def test_a_first_file_alone_counts_as_a_submission(
    db: Session,
    deriver: CodenameDeriver,
    source: LoggedInSource,
    store: Store,
    gpg: GpgService,
) -> None:
    config = configure(db, min_message_length=10)
    submit(db, store, gpg, source.source, None, [Document(io.BytesIO(b"photo"), "a.jpg")])
    assert refusal(db, deriver, config, source, "ok") is None


def test_the_codename_as_a_first_message_is_refused(
    db: Session, deriver: CodenameDeriver, source: LoggedInSource, codename: str
) -> None:
    config = configure(db, reject_codename_messages=True)
    assert refusal(db, deriver, config, source, codename) == "codename"
    shouted = "  " + "   ".join(codename.upper().split()) + "\n"
    assert refusal(db, deriver, config, source, shouted) == "codename"
    assert refusal(db, deriver, config, source, LONG_ENOUGH) is None


def test_someone_elses_codename_or_other_seven_words_pass(
    db: Session, deriver: CodenameDeriver, source: LoggedInSource, codename: str
) -> None:
    config = configure(db, reject_codename_messages=True)
    other = generate_codename()
    assert other != codename
    assert refusal(db, deriver, config, source, other) is None
    assert refusal(db, deriver, config, source, "they took my phone and my bank card") is None


@pytest.mark.parametrize("words", [6, 8])
def test_only_seven_word_messages_are_derived(
    deriver: CodenameDeriver, source: LoggedInSource, codename: str, words: int
) -> None:
    # Six or eight of the codename's words are not the codename, and cost no argon2 run.
    text = " ".join((codename.split() * 2)[:words])
    assert is_own_codename(deriver, source.source, text) is False
    assert is_own_codename(deriver, source.source, codename) is True


def test_the_setting_off_lets_the_codename_through(
    db: Session, deriver: CodenameDeriver, source: LoggedInSource, codename: str
) -> None:
    config = configure(db, reject_codename_messages=False)
    assert refusal(db, deriver, config, source, codename) is None
