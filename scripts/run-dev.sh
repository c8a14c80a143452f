#!/usr/bin/env bash
# Bring up both interfaces on loopback for development (`make run`): a development submission
# key, an instance in .dev/, one admin account, then the source and staff servers until Ctrl-C.
# SOURCE_PORT and STAFF_PORT move the servers off 8080 and 8081.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=.venv/bin
dev=.dev
config=$dev/seethesigns.toml
offline_gnupg=$dev/offline-gnupg
public_key=$dev/submission-public.asc
# Written once add-staff has succeeded, so a failed first run retries it rather than skipping it.
admin_made=$dev/.admin-created
logs=$dev/logs
source_port=${SOURCE_PORT:-8080}
staff_port=${STAFF_PORT:-8081}

die() {
  printf 'run-dev: %s\n' "$*" >&2
  exit 1
}

[ -x "$bin/seethesigns" ] || die "$bin/seethesigns is missing; run 'make venv' first"
mkdir -p "$dev" "$logs"

if [ ! -d "$offline_gnupg" ]; then
  echo "==> Making a development submission keypair in $offline_gnupg"
  "$bin/python" scripts/dev_submission_key.py --homedir "$offline_gnupg" --export "$public_key" \
    || die "could not make the development submission key (see above)"
fi
[ -f "$public_key" ] || die "$public_key is missing; remove $offline_gnupg and run again"

if [ ! -f "$config" ]; then
  echo "==> Creating a development instance: config $config, data in $dev/data"
  "$bin/seethesigns" init --data-dir "$dev/data" --submission-key "$public_key" --config "$config" \
    || die "'seethesigns init' failed (see above)"
else
  # An instance made by an older checkout: bring its schema up to date, as an upgrade would.
  "$bin/seethesigns" migrate --config "$config" || die "'seethesigns migrate' failed (see above)"
fi

if [ ! -f "$admin_made" ]; then
  echo "==> Creating the staff account 'admin'"
  "$bin/seethesigns" add-staff admin --admin --config "$config" \
    || die "'seethesigns add-staff' failed (see above)"
  touch "$admin_made"
  cat <<EOF

*** Save the passphrase and the TOTP secret printed above (scan the QR code into an
*** authenticator app). They are shown only once; you need both to log in as admin. At
*** that first login the site asks you to choose a new passphrase and set up a new device.

EOF
  login_hint="log in as admin with the passphrase and a TOTP code from the secret above"
else
  cat <<EOF
==> The staff account 'admin' already exists (its passphrase and TOTP secret were printed
    when it was made). To create another account:
      $bin/seethesigns add-staff NAME [--admin] --config $config
EOF
  login_hint="log in as admin with its passphrase and a TOTP code"
fi

# True once something answers HTTP on the port. Any status counts, and redirects are not
# followed: the staff interface sends a logged-out visitor to its login page.
answers_http() {
  "$bin/python" - "$1" <<'EOF'
import http.client
import sys

connection = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=2)
try:
    connection.request("GET", "/")
    connection.getresponse()
except (OSError, http.client.HTTPException):
    sys.exit(1)
EOF
}

for port in "$source_port" "$staff_port"; do
  # Something else on the port would answer our readiness check and hide a failed start.
  if answers_http "$port"; then
    die "something is already listening on 127.0.0.1:$port; stop it first"
  fi
done

pids=()
# shellcheck disable=SC2317  # reached through the EXIT trap
stop_servers() {
  # Ignore further signals while cleaning up, rather than restore their default: make passes
  # its own SIGTERM on to this script, and a second signal must not kill it half way through,
  # leaving the servers running on their own.
  trap - EXIT
  trap '' INT TERM
  [ "${#pids[@]}" -gt 0 ] || return 0
  echo
  echo "==> Stopping the servers"
  for pid in "${pids[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for _ in $(seq 50); do
    alive=0
    for pid in "${pids[@]}"; do
      kill -0 -- "-$pid" 2>/dev/null && alive=1
    done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Each server gets its own session (setsid) so that stopping it also stops any worker
# processes it forks, and so that Ctrl-C reaches only this script, which then stops both.
names=(source journalist)
ports=("$source_port" "$staff_port")
for i in 0 1; do
  setsid "$bin/seethesigns" serve "${names[$i]}" --port "${ports[$i]}" --config "$config" \
    >"$logs/${names[$i]}.log" 2>&1 </dev/null &
  pids+=("$!")
done

echo "==> Waiting for the servers (logs in $logs/)"
for i in 0 1; do
  for attempt in $(seq 60); do
    answers_http "${ports[$i]}" && break
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      tail -n 30 "$logs/${names[$i]}.log" >&2 || true
      die "the ${names[$i]} server exited during start-up; the end of its log is above"
    fi
    [ "$attempt" -lt 60 ] || die "nothing answered on 127.0.0.1:${ports[$i]} within 30 s; see $logs/"
    sleep 0.5
  done
done

cat <<EOF

Source interface: http://127.0.0.1:$source_port/  Staff interface: http://127.0.0.1:$staff_port/ — $login_hint; press Ctrl-C to stop

A TOTP code from the secret:  $bin/python -c 'import pyotp, sys; print(pyotp.TOTP("".join(sys.argv[1:])).now())' SECRET
Other commands:               export SEETHESIGNS_CONFIG=$PWD/$config; $bin/seethesigns --help
Server logs:                  tail -f $logs/source.log $logs/journalist.log
Read downloaded reports:      $bin/seethesigns-workstation open FILE.zip --homedir $offline_gnupg --out DIR
                              (the workstation steps: http://127.0.0.1:$staff_port/help/reading)
Decrypt one file:             gpg --homedir $offline_gnupg --decrypt FILE.gpg
EOF

# Return as soon as either server stops, so a crash does not leave half the system running.
status=0
wait -n "${pids[@]}" || status=$?
echo "run-dev: a server stopped unexpectedly (exit $status); see $logs/" >&2
exit 1
