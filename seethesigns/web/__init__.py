"""Flask plumbing both interfaces share: sessions, headers, database, key checks."""
