"""Reading and changing the instance settings row that admins edit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from seethesigns.models import InstanceConfig


def instance_config(db: Session) -> InstanceConfig:
    """The single settings row, created with its defaults on first use."""
    row = db.scalar(select(InstanceConfig).order_by(InstanceConfig.id).limit(1))
    if row is None:
        row = InstanceConfig(
            organization_name="See the Signs",
            allow_uploads=True,
            min_message_length=0,
            reject_codename_messages=False,
        )
        db.add(row)
        db.commit()
    return row
