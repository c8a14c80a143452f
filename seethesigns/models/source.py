"""A source: one young person, known only by what their codename derives."""

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from seethesigns.models.base import Base, new_uuid, utcnow


class Source(Base):
    """A source and their reply keypair.

    The keypair is stored here, per row, rather than in one shared GnuPG keyring: SecureDrop's
    single keyring slowed to a crawl at 10-20k keys (its issue #6389). Each key operation
    imports just the one key it needs into a throwaway keyring, so its cost does not grow
    with the number of sources. The secret key is protected by a passphrase derived from the
    codename, which is never stored.
    """

    __tablename__ = "sources"
    # The staff source list: urgent first, then starred, then latest activity, paged by keyset
    # on these columns. Designation and interaction_count ride along so a search, and leaving
    # out the codenames that never sent anything (issue 13), read this small index, never the
    # wide rows that hold the keys: a seek into those per source made a rare filter 4 times
    # slower.
    __table_args__ = (
        Index(
            "ix_sources_list_order",
            "urgent",
            "is_starred",
            "last_updated",
            "id",
            "designation",
            "interaction_count",
        ),
        # The same order within one owning team: a team's list is an index seek too, however
        # few of the sources it owns (issue 14).
        Index(
            "ix_sources_team_order",
            "team_id",
            "urgent",
            "is_starred",
            "last_updated",
            "id",
            "designation",
            "interaction_count",
        ),
        # What the Journalist API's kept JSON of each source is checked against, in list
        # order: every column that JSON shows but the key, whose fingerprint is here (issue 16,
        # journalist_interface/api/source_fragments.py).
        Index(
            "ix_sources_api_stamp",
            "urgent",
            "id",
            "interaction_count",
            "team_id",
            "is_starred",
            "last_updated",
            "submissions_version",
            "uuid",
            "pgp_fingerprint",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    filesystem_id: Mapped[str] = mapped_column(String(96), unique=True)
    designation: Mapped[str] = mapped_column(String(64), unique=True)
    pgp_fingerprint: Mapped[str] = mapped_column(String(64))
    pgp_public_key: Mapped[str] = mapped_column(Text)
    pgp_secret_key: Mapped[str] = mapped_column(Text)
    interaction_count: Mapped[int] = mapped_column(default=0)
    # Shared by the whole team, as SecureDrop's is_starred.
    is_starred: Mapped[bool] = mapped_column(default=False)
    # True while any of the source's submissions is marked urgent by the child: a copy of
    # Submission.urgent kept here so the list sorts on one index (issue 13).
    urgent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_updated: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Set when the young person deleted their account: the row stays as a content-free stub
    # for staff (issue 13), with its keys and codename-derived id gone.
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    # The team that owns the case (issue 14): the front door when the source was made, until
    # a handover. A plain integer, as Team explains; None only in a database from before teams
    # that `migrate` has not brought up to date.
    team_id: Mapped[int | None] = mapped_column(default=None)
    # Bumped by the database's triggers whenever one of the source's submissions is added,
    # changed or removed (migration 0017), so the API can tell its counts may have changed
    # without counting them. Never written by the app.
    submissions_version: Mapped[int] = mapped_column(server_default="0", default=0)
