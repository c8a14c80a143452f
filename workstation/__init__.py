"""The air-gapped workstation: the submission-key ceremony and the offline report viewer.

This package runs on a machine with no network and shares no code with the server: it needs
only the standard library, python-gnupg and GnuPG (and mat2 for `--clean-metadata`).
"""
