"""Teams of a partnership (issue 14): who belongs, what each may see, handover and sharing.

- membership: teams, the front door, and who is in which team;
- reach: what one staff member may see and do, as SQL clauses and checks;
- handover: moving a case to another team;
- sharing: storing a checked share package as shared copies, and who holds a case;
- share_package: checking a package the offline workstation wrote.
"""
