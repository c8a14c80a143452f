"""The fixed vocabulary of audited actions, and the kinds of object they act on."""

from __future__ import annotations

# Logging in and out, on the web and through the Journalist API (detail "via").
LOGIN_SUCCESS = "login.success"
LOGIN_FAILURE = "login.failure"
LOGOUT = "logout"
REAUTH_SUCCESS = "reauth.success"
REAUTH_FAILURE = "reauth.failure"
TOKEN_ISSUE = "token.issue"  # noqa: S105 - the name of an action, not a secret
TOKEN_REVOKE = "token.revoke"  # noqa: S105 - the name of an action, not a secret
# Reading and answering reports.
ITEM_DOWNLOAD = "item.download"
EXPORT_ZIP = "export.zip"
SEEN_MARK = "item.seen"
UNSEEN_MARK = "item.unseen"
REPLY_SEND = "reply.send"
# Case handling.
CASE_STATUS = "case.status"
CASE_ASSIGN = "case.assign"
CASE_NOTE = "case.note"
LABEL_ADD = "label.add"
LABEL_REMOVE = "label.remove"
STAR = "source.star"
UNSTAR = "source.unstar"
# Deleting.
ITEM_DELETE = "item.delete"
SOURCE_DELETE = "source.delete"
CONVERSATION_DELETE = "conversation.delete"
# One's own account.
ACCOUNT_RENAME = "account.rename"
ACCOUNT_PASSPHRASE = "account.passphrase"  # noqa: S105 - the name of an action, not a secret
ACCOUNT_TWO_FACTOR_START = "account.two_factor_start"
ACCOUNT_TWO_FACTOR_CONFIRM = "account.two_factor_confirm"
# A new account's first login: its own passphrase, then its own 2FA (then it is active).
FIRST_LOGIN_PASSPHRASE = "first_login.passphrase"  # noqa: S105 - the name of an action
FIRST_LOGIN_ACTIVATED = "first_login.activated"
ACCOUNT_ALERTS = "account.alerts"
# Stopping the repeating alert of urgent reports, for everyone.
ALERT_ACKNOWLEDGE = "alert.acknowledge"
# Admins: staff accounts.
STAFF_ADD = "staff.add"
STAFF_ADMIN = "staff.admin"
STAFF_PASSPHRASE_RESET = "staff.passphrase_reset"  # noqa: S105 - the name of an action, not a secret
STAFF_TWO_FACTOR_RESET = "staff.two_factor_reset"
STAFF_TWO_FACTOR_CONFIRM = "staff.two_factor_confirm"
STAFF_DELETE = "staff.delete"
# Admins: instance settings.
SETTINGS_UPDATE = "settings.update"
SETTINGS_LOGO_SET = "settings.logo_set"
SETTINGS_LOGO_REMOVE = "settings.logo_remove"
SETTINGS_URGENT_HELP = "settings.urgent_help"
SETTINGS_DISGUISE = "settings.disguise"
SETTINGS_REPLIES = "settings.replies"
SETTINGS_AUDIT_RETENTION = "settings.audit_retention"
SETTINGS_ALERTS = "settings.alerts"
# Admins: the keys new items are encrypted to (issue 14).
RECIPIENT_ADD = "recipient.add"
RECIPIENT_RETIRE = "recipient.retire"
# Teams (issue 14): who belongs where, the front door, handovers and shares.
TEAM_ADD = "team.add"
TEAM_RENAME = "team.rename"
TEAM_FRONT_DOOR = "team.front_door"
TEAM_MEMBERS = "team.members"
CASE_HANDOVER = "case.handover"
CASE_SHARE = "case.share"
CASE_SHARE_REFUSED = "case.share_refused"
# The log itself.
AUDIT_VIEW = "audit.view"
AUDIT_EXPORT = "audit.export"
AUDIT_PRUNED = "audit.pruned"
# Figures for the partnership (content-free, but who looked and exported is on record).
FIGURES_VIEW = "figures.view"
FIGURES_EXPORT = "figures.export"

ACTIONS = frozenset(
    value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str)
)
OBJECT_TYPES = frozenset(
    {
        "source",
        "submission",
        "reply",
        "staff",
        "settings",
        "audit",
        "token",
        "recipient",
        "team",
    }
)
# Written for a login with a username that is not an account: what was typed is not kept,
# since it may be a passphrase typed into the wrong field, or a real name.
UNKNOWN_USERNAME = "unknown"
# The actor of what no person did: retention's checkpoint.
SYSTEM_USERNAME = "system"
