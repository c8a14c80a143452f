"""The token that changes whenever anything the Journalist API lists changes (issue 16)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from seethesigns.models import SyncState


def sync_token(db: Session) -> str:
    """The current token: one primary-key read, replaced by triggers on every change."""
    token = db.scalar(select(SyncState.token).where(SyncState.id == 1))
    if token is None:
        raise RuntimeError("sync_state has no row: run `seethesigns migrate`")
    return token
