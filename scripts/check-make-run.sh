#!/usr/bin/env bash
# Prove that the README's `make run` really serves both interfaces (a CI step, .ci/run): start
# it as a person would, wait until the source interface answers its home page and the staff
# interface sends a logged-out visitor to its login page, then stop it (SIGTERM to its process
# group, which run-dev.sh handles as it does Ctrl-C) and check that both ports are closed again.
set -euo pipefail
cd "$(dirname "$0")/.."

source_port=${SOURCE_PORT:-8080}
staff_port=${STAFF_PORT:-8081}
log=$(mktemp)
deadline=$((SECONDS + ${CHECK_RUN_TIMEOUT:-300}))

# Prints the HTTP status of GET / on the port, or 000 when nothing answers.
status_of() {
  python3 - "$1" <<'PY'
import http.client
import sys

try:
    connection = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
    connection.request("GET", "/")
    response = connection.getresponse()
    location = response.getheader("Location") or ""
    print(response.status, location, response.read(200_000).count(b"<form"))
except (OSError, http.client.HTTPException):
    print("000 - 0")
PY
}

SOURCE_PORT=$source_port STAFF_PORT=$staff_port setsid make run >"$log" 2>&1 </dev/null &
pid=$!
# Stop it as Ctrl-C would, but with SIGTERM: a command started in the background by a script
# has SIGINT ignored, and a shell cannot trap a signal ignored on entry. run-dev.sh traps both
# and stops the two servers, which run in sessions of their own. Wait for the whole group to finish that cleanup: make
# itself may exit first, and killing run-dev.sh mid-cleanup would orphan the servers.
stop() {
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 300); do
    pgrep -g "$pid" >/dev/null 2>&1 || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
trap stop EXIT

while :; do
  read -r source_status _ _ < <(status_of "$source_port")
  read -r staff_status staff_location _ < <(status_of "$staff_port")
  if [ "$source_status" = 200 ] && [ "$staff_status" = 302 ] \
    && [[ "$staff_location" == */login* ]] && grep -q "Source interface:" "$log"; then
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
    cat "$log" >&2
    echo "check-make-run: 'make run' did not serve both interfaces (source: $source_status," \
      "staff: $staff_status $staff_location)" >&2
    exit 1
  fi
  sleep 1
done
echo "check-make-run: 'make run' served the source interface (200 on :$source_port) and the" \
  "staff interface (302 to its login page on :$staff_port) after ${SECONDS} s"

trap - EXIT
stop
# gunicorn lets requests in progress finish before it closes: allow it a moment.
for port in "$source_port" "$staff_port"; do
  for _ in $(seq 40); do
    read -r status _ _ < <(status_of "$port")
    [ "$status" = 000 ] && break
    sleep 0.5
  done
  if [ "$status" != 000 ]; then
    cat "$log" >&2
    ps -eo pid,pgid,sid,ppid,stat,cmd | grep -E "make run|run-dev|seethesigns serve" >&2 || true
    echo "check-make-run: something still answers on :$port 20 s after make run was stopped" >&2
    exit 1
  fi
done
grep -q "Stopping the servers" "$log" || { cat "$log" >&2; echo "check-make-run: no clean stop" >&2; exit 1; }
echo "check-make-run: stopping make run stopped both servers"
rm -f "$log"
