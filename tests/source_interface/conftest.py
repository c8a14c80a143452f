"""Fixtures the source interface's tests share."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from seethesigns.db import make_engine, make_session_factory
from seethesigns.instance_settings import Changes, set_logo, update_settings
from seethesigns.settings import Settings

DEFAULTS = Changes("See the Signs", True, 0, False, None)

Configure = Callable[..., None]


@pytest.fixture
def configure(settings: Settings) -> Iterator[Configure]:
    """Change the instance settings as an admin would: configure(allow_uploads=False, ...)."""
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)

    def apply(logo: bytes | None = None, **values: object) -> None:
        with factory() as db:
            update_settings(db, Changes(**{**DEFAULTS.__dict__, **values}))
            if logo is not None:
                set_logo(db, logo)

    yield apply
    engine.dispose()
