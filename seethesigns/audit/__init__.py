"""The staff audit log: an append-only, HMAC-chained record of who did what (issue 13).

It holds staff actions and the random identifiers staff already see (designations, uuids),
never content, codenames, client addresses or user agents.
"""
