"""A logged-in source's files are encrypted while they arrive, not spooled first (issue 16)."""

from __future__ import annotations

from typing import Any

from seethesigns.recipients import active_fingerprints
from seethesigns.uploads import EncryptingUpload
from seethesigns.web.setup import EncryptedUploadRequest, db, services
from source_interface.session_state import current_source

# The one view that stores what it is sent; any other body is spooled as before.
SUBMIT_ENDPOINT = "reports.submit"
_ARRIVING = "_seethesigns_arriving"


class ArrivingUploadRequest(EncryptedUploadRequest):
    """Each file of a source's report goes through gzip into gpg as the parser reads it.

    Only for /submit by a logged-in source with a recipient key: the ciphertext is written in
    that source's folder and encrypted to its case's keys, so both must be known before the
    first byte. Anything else (no session, another route) gets the encrypted spool.
    """

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> Any:
        found = services()
        # An empty file input still sends a part, with no name: the view ignores it.
        source = current_source() if filename and self.endpoint == SUBMIT_ENDPOINT else None
        recipients = active_fingerprints(db(), found.gpg, source.source.team_id) if source else []
        if source is None or not recipients:
            return super()._get_file_stream(
                total_content_length, content_type, filename, content_length
            )
        partial = found.store.partial_path(source.source.filesystem_id)
        upload = EncryptingUpload(
            found.gpg.start_encryption(partial, recipients),
            partial,
            filename or "",
            recipients,
            found.settings.max_upload_bytes,
        )
        # Kept here too: if the body breaks off, the parser drops its files unseen.
        self.__dict__.setdefault(_ARRIVING, []).append(upload)
        return upload

    def close(self) -> None:
        """Close the files, and stop and remove every upload that was not stored."""
        try:
            super().close()
        finally:
            for upload in self.__dict__.pop(_ARRIVING, []):
                upload.close()
