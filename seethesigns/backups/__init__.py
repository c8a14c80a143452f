"""Encrypted backups of a whole instance, and restoring them on a fresh server.

`seethesigns backup` streams one tar archive (database snapshot, encrypted store, public
keyring, configuration, onion keys, and a manifest of sha256 sums) straight into gpg,
encrypted to a backup key whose private half the server never holds. `seethesigns restore`
streams the decryption straight into a checked extraction. Neither ever writes the archive
unencrypted to disk.
"""
