"""Database tables, one module per table. Models hold data only."""

from seethesigns.models.alert import AlertDelivery, AlertEvent, AlertRound
from seethesigns.models.api_token import ApiToken
from seethesigns.models.audit_entry import AuditEntry
from seethesigns.models.base import Base
from seethesigns.models.case import CASE_STATUSES, Case, CaseLabel
from seethesigns.models.instance_config import InstanceConfig
from seethesigns.models.login_failure import LoginFailure
from seethesigns.models.recipient import Recipient
from seethesigns.models.recorded_item import RecordedItem
from seethesigns.models.reply import Reply
from seethesigns.models.seen import SeenReply, SeenSubmission
from seethesigns.models.shared_case import SharedCase
from seethesigns.models.source import Source
from seethesigns.models.staff import STAFF_STATUSES, Staff
from seethesigns.models.submission import Submission
from seethesigns.models.sync_state import SyncState
from seethesigns.models.team import Team, TeamMember
from seethesigns.models.unread_source import UnreadSource
from seethesigns.models.web_session import WebSession

__all__ = [
    "CASE_STATUSES",
    "STAFF_STATUSES",
    "AlertDelivery",
    "AlertEvent",
    "AlertRound",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Case",
    "CaseLabel",
    "InstanceConfig",
    "LoginFailure",
    "Recipient",
    "RecordedItem",
    "Reply",
    "SeenReply",
    "SeenSubmission",
    "SharedCase",
    "Source",
    "Staff",
    "Submission",
    "SyncState",
    "Team",
    "TeamMember",
    "UnreadSource",
    "WebSession",
]
