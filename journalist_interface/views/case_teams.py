"""Handing a case over to another team, and uploading a share package for one (issue 14).

Only the team that owns a case (or an admin) does either. A handover changes who owns the
case; a share adds copies that the workstation re-encrypted for the target team, and the
server accepts a package only if every item is encrypted to exactly that team's active keys.
Both are in the audit log, and so is a refused package.
"""

from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from journalist_interface.audit_trail import of_source, record
from journalist_interface.staff_reach import owned_source_or_404
from journalist_interface.staff_session import login_required
from journalist_interface.views.sources import conversation_page
from seethesigns.audit.actions import CASE_HANDOVER, CASE_SHARE, CASE_SHARE_REFUSED
from seethesigns.encryption import OutOfSpace
from seethesigns.models import Team
from seethesigns.recipients import team_public_keys, team_recipients
from seethesigns.settings import Settings
from seethesigns.storage import StorageError, StorageFull
from seethesigns.teams.handover import hand_over
from seethesigns.teams.membership import TeamError
from seethesigns.teams.share_package import PackageRefused, read_package
from seethesigns.teams.sharing import store_shared_copies
from seethesigns.web.request_body import UPLOAD_FRAMING_BYTES, BodyLimit, takes_body
from seethesigns.web.setup import db, services

bp = Blueprint("case_teams", __name__)


def package_body(settings: Settings) -> BodyLimit:
    """A share package: a zip of ciphertext up to the instance's upload limit."""
    return BodyLimit(max_bytes=settings.max_upload_bytes + UPLOAD_FRAMING_BYTES)


def _team_or_none(team_uuid: str) -> Team | None:
    return db().scalar(select(Team).where(Team.uuid == team_uuid))


@bp.post("/sources/<source_uuid>/handover")
@login_required
def handover(source_uuid: str) -> Response | tuple[str, int]:
    """Make another team the owner of this case, once confirmed."""
    source = owned_source_or_404(source_uuid)
    team = _team_or_none(request.form.get("team", ""))
    if team is None:
        return conversation_page(source, 400, team_error="choose the team to hand over to")
    if request.form.get("confirm") != "yes":
        return conversation_page(source, 400, team_error="tick the box to confirm the handover")
    try:
        before = hand_over(db(), source, team)
    except TeamError as exc:
        return conversation_page(source, 400, team_error=str(exc))
    record(
        CASE_HANDOVER,
        of_source(source),
        source=source.designation,
        from_team=before.name if before else None,
        to_team=team.name,
    )
    # The case has gone to the other team: unless this is an admin, it is no longer theirs.
    return redirect(url_for("sources.index", notice="handed_over"))


@bp.post("/sources/<source_uuid>/shares")
@takes_body(package_body)
@login_required
def share(source_uuid: str) -> Response | tuple[str, int]:
    """Store the items of a checked share package as copies for the target team."""
    source = owned_source_or_404(source_uuid)
    team = _team_or_none(request.form.get("team", ""))
    upload = request.files.get("package")
    if team is None:
        return conversation_page(source, 400, share_error="choose the team you shared with")
    if team.id == source.team_id:
        return conversation_page(source, 400, share_error="your own team already sees this case")
    if upload is None or not upload.filename:
        return conversation_page(source, 400, share_error="choose the package file to upload")
    settings = services().settings
    try:
        package = read_package(
            upload.stream,  # type: ignore[arg-type]
            designation=source.designation,
            team=team.name,
            recipients=team_recipients(db(), team.id),
            max_item_bytes=settings.max_upload_bytes,
        )
        copies = store_shared_copies(db(), services().store, source, team, package)
    except PackageRefused as exc:
        record(CASE_SHARE_REFUSED, of_source(source), to_team=team.name, reason=str(exc))
        return conversation_page(source, 400, share_error=f"the package was refused: {exc}")
    except (StorageFull, OutOfSpace):
        return conversation_page(source, 507, share_error="the server's disk is full")
    except StorageError as exc:
        return conversation_page(
            source, 503, share_error=f"it could not be stored ({exc}); try again"
        )
    record(
        CASE_SHARE,
        of_source(source),
        source=source.designation,
        to_team=team.name,
        items=[copy.uuid for copy in copies],
    )
    return redirect(url_for("sources.source", source_uuid=source.uuid, notice="shared") + "#teams")


@bp.get("/teams/<team_uuid>/keys.asc")
@login_required
def team_keys(team_uuid: str) -> Response:
    """A team's active public keys, to carry to the workstation for `share --keys`."""
    team = _team_or_none(team_uuid) or abort(404)
    armored = team_public_keys(db(), team.id)
    response = make_response(armored)
    response.headers["Content-Type"] = "application/pgp-keys"
    slug = "".join(c if c.isalnum() else "-" for c in team.name.lower()).strip("-") or "team"
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}-keys.asc"'
    return response
