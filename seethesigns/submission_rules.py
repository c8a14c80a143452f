"""What the instance's settings demand of a source's submission before it is encrypted."""

from __future__ import annotations

import hmac

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from seethesigns.codenames import CODENAME_WORDS, CodenameDeriver, normalize_codename
from seethesigns.models import InstanceConfig, Source, Submission


class SubmissionRefused(Exception):
    """The instance does not accept this submission; reason names the rule for the page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _is_first(db: Session, source: Source) -> bool:
    return not db.scalar(select(exists().where(Submission.source_id == source.id)))


def is_own_codename(deriver: CodenameDeriver, source: Source, message: str) -> bool:
    """True if the message is nothing but this source's codename.

    The server never keeps a codename, so it cannot compare the text with it. It derives
    the filesystem_id the text would have as a codename and compares that with the
    source's own, in constant time: they are equal only if the text is their codename.
    Only seven-word messages are tried, so ordinary messages cost no argon2 run.
    """
    normal = normalize_codename(message)
    if normal is None or len(normal.split(" ")) != CODENAME_WORDS:
        return False
    return hmac.compare_digest(deriver.filesystem_id(normal), source.filesystem_id)


def check_submission(
    db: Session,
    deriver: CodenameDeriver,
    config: InstanceConfig,
    source: Source,
    message: str,
    has_documents: bool,
) -> None:
    """Raise SubmissionRefused if the settings forbid this submission; nothing is stored."""
    if has_documents and not config.allow_uploads:
        raise SubmissionRefused("uploads_off")
    if not _is_first(db, source):
        return
    if len(message.strip()) < config.min_message_length:
        raise SubmissionRefused("too_short")
    if config.reject_codename_messages and is_own_codename(deriver, source, message):
        raise SubmissionRefused("codename")
