"""Content-free alerts to staff (issue 13): the outbox the web apps write, and its sender.

The web apps never send mail. Storing a report adds one AlertEvent row in the same
transaction (outbox.py); `seethesigns alerts run` (sender.py) plans alert rounds from those
rows and from the seen table (planner.py), and hands one fixed message (message.py) per
staff member to the relay (mailer.py).
"""
