#!/usr/bin/env bash
# Install the Debian packages the project needs, only those missing (`make system-packages`):
# gnupg (all encryption and the tests), tor (onion services), chromium (browser tests), mat2
# (the workstation's `open --clean-metadata`), nginx (the front the integration tests put
# before gunicorn), and python3-venv where the Python given in $PYTHON cannot make a virtual
# environment.
set -euo pipefail

python=${PYTHON:-python3}
missing=()
command -v gpg >/dev/null 2>&1 || missing+=(gnupg)
command -v tor >/dev/null 2>&1 || missing+=(tor)
# Headless Chromium for the tests of what a person sees, over Tor too (Debian's build: no
# browser download at test time).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# certutil, to make the NSS database through which Chromium trusts the HTTPS tests' own CA.
command -v certutil >/dev/null 2>&1 || missing+=(libnss3-tools)
# Debian's mat2 brings the GObject, Poppler and GdkPixbuf bindings that PyPI's mat2 would
# have to build; the workstation runs it as a program.
command -v mat2 >/dev/null 2>&1 || missing+=(mat2)
# Debian's nginx, as production runs it; it lives in /usr/sbin, often not on a user's PATH.
PATH="$PATH:/usr/sbin:/sbin" command -v nginx >/dev/null 2>&1 || missing+=(nginx)
# Debian's PostgreSQL server: `make test` runs the database-touching tests against a throwaway
# cluster of its own as well as against SQLite (tests/databases.py).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
# Debian's python3 ships the venv module but leaves ensurepip to python3-venv.
"$python" -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)

[ "${#missing[@]}" -eq 0 ] && exit 0

echo "==> Installing Debian packages: ${missing[*]}"
as_root=(env DEBIAN_FRONTEND=noninteractive)
[ "$(id -u)" -eq 0 ] || as_root=(sudo "${as_root[@]}")
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"

# Debian starts a cluster of the PostgreSQL it installs; the tests run their own, so stop it.
if [[ " ${missing[*]} " == *" postgresql "* ]] && [ -d /run/systemd/system ]; then
  "${as_root[@]}" systemctl disable --now postgresql.service
fi

# Debian starts the nginx it installs, on port 80 with its default site and an access log.
# The tests run their own nginx; stop that one and keep it from starting at boot.
if [[ " ${missing[*]} " == *" nginx "* ]]; then
  if [ -d /run/systemd/system ]; then
    "${as_root[@]}" systemctl disable --now nginx.service
  elif [ -f /run/nginx.pid ]; then
    "${as_root[@]}" /usr/sbin/nginx -s quit
  fi
fi
