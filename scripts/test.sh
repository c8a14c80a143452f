#!/usr/bin/env bash
# `make test`: the whole suite. The deployment tests (tests/deploy: the playbooks against
# Debian 12 targets booted here) spend most of their time waiting on the targets, so they run
# beside the rest of the suite rather than after it; their output is printed at the end.
# With PYTEST_ARGS (a developer choosing tests), it is one plain pytest run instead.
set -uo pipefail
cd "$(dirname "$0")/.."

python=.venv/bin/python
if [ -n "${PYTEST_ARGS:-}" ]; then
  # PYTEST_ARGS is shell words, quotes and all (PYTEST_ARGS='-m "not tor" -x').
  eval "exec \"\$python\" -m pytest $PYTEST_ARGS"
fi

mkdir -p test-artifacts
deploy_log=test-artifacts/deploy-tests.log
"$python" -m pytest tests/deploy -p no:cacheprovider >"$deploy_log" 2>&1 </dev/null &
deploy_pid=$!
trap 'kill "$deploy_pid" 2>/dev/null' INT TERM

main_log=$(mktemp)
"$python" -m pytest -m "not deploy" 2>&1 | tee "$main_log"
main_status=${PIPESTATUS[0]}

# The same tests of everything that touches the database again, on PostgreSQL: a throwaway
# cluster this run starts and removes (tests/databases.py). Left out, as they do not depend
# on the database engine: the browser tests (what a person sees), the Tor network tests, the
# deployment (its own targets), and the workstation (offline, no database).
echo
echo "==> The database-touching tests again, on PostgreSQL:"
pg_log=$(mktemp)
SEETHESIGNS_TEST_DATABASE=postgresql "$python" -m pytest -p no:cacheprovider \
  -m "not deploy and not tor" \
  tests/seethesigns tests/journalist_interface tests/source_interface tests/integration \
  2>&1 | tee "$pg_log"
pg_status=${PIPESTATUS[0]}

wait "$deploy_pid"
deploy_status=$?
echo
echo "==> The deployment tests (tests/deploy), run beside the rest:"
cat "$deploy_log"

# One closing line for both runs, in the form CI reads: "tests: N passed, N failed".
count() {
  grep -Eo "[0-9]+ $1" "$2" | tail -n 1 | grep -Eo '^[0-9]+' || echo 0
}
passed=0 failed=0 errors=0 skipped=0
for log in "$main_log" "$pg_log" "$deploy_log"; do
  passed=$((passed + $(count passed "$log")))
  failed=$((failed + $(count failed "$log")))
  errors=$((errors + $(count error "$log")))
  skipped=$((skipped + $(count skipped "$log")))
done
rm -f "$main_log" "$pg_log"
echo
echo "tests: $passed passed, $((failed + errors)) failed, $skipped skipped"
if [ "$main_status" -ne 0 ] || [ "$pg_status" -ne 0 ] || [ "$deploy_status" -ne 0 ]; then
  echo "test: the suite failed (pytest exit $main_status; on PostgreSQL $pg_status;" \
    "deployment tests $deploy_status)" >&2
  exit 1
fi
