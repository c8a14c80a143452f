#!/usr/bin/env bash
# Regenerate requirements.lock (runtime) and requirements-dev.lock (runtime + dev extra) from
# pyproject.toml, hash-pinned for Linux and Python 3.11 (`make lock`). Packages already pinned
# keep their version; extra arguments go to uv (`make lock LOCK_ARGS=--upgrade` moves every pin).
set -euo pipefail
cd "$(dirname "$0")/.."

uv=.venv/bin/uv
python=.venv/bin/python
[ -x "$uv" ] || { echo "lock: $uv is missing; run 'make venv' first" >&2; exit 1; }

# Both locks carry the build backend, so `pip install --no-build-isolation .` installs the
# project without fetching an unhashed setuptools. Read from [build-system] to stay in step.
build_requires=$("$python" -c '
import tomllib
with open("pyproject.toml", "rb") as f:
    print("\n".join(tomllib.load(f)["build-system"]["requires"]))
')

compile() {
  local output=$1
  shift
  printf '%s\n' "$build_requires" | "$uv" pip compile "$@" \
    --generate-hashes \
    --python-version 3.11 \
    --python-platform linux \
    --custom-compile-command "make lock" \
    --quiet \
    --output-file "$output" \
    "${extra_args[@]}"
  echo "lock: wrote $output"
}

extra_args=("$@")
# The build backend alone, installed first into a new venv (whose own setuptools is too old to
# build stem's sdist); the two full locks must pin the same version (tests/test_locks.py).
compile requirements-build.lock -
compile requirements.lock pyproject.toml -
compile requirements-dev.lock pyproject.toml - --extra dev
