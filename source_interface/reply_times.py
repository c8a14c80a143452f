"""How long things take, said as a child would say it: "We usually reply within a day."

The instance sets the usual reply time in hours (1 to 336). Under a day it is said in hours;
a whole number of weeks in weeks; anything else in days, rounded up, so the page never
promises a reply sooner than the staff set.
"""

from __future__ import annotations

from math import ceil

from flask_babel import ngettext

HOURS_A_DAY = 24
HOURS_A_WEEK = 7 * HOURS_A_DAY


def usual_reply_time(hours: int) -> str:
    """The sentence saying how soon staff usually reply."""
    if hours < HOURS_A_DAY:
        return ngettext(
            "We usually reply within an hour.", "We usually reply within %(num)s hours.", hours
        )
    if hours % HOURS_A_WEEK == 0:
        return ngettext(
            "We usually reply within a week.",
            "We usually reply within %(num)s weeks.",
            hours // HOURS_A_WEEK,
        )
    return ngettext(
        "We usually reply within a day.",
        "We usually reply within %(num)s days.",
        ceil(hours / HOURS_A_DAY),
    )


def longest_wait(minutes: int) -> str:
    """The sentence saying how long the waiting page keeps checking."""
    return ngettext(
        "You can wait here for up to a minute.",
        "You can wait here for up to %(num)s minutes.",
        minutes,
    )
