#!/usr/bin/env bash
# The test suite on a fresh machine: installs what is missing, type-checks and lints (full run), starts a Temporal
# dev server and a MinIO of the tests' own, runs the tests in one `node --test` run, and stops those services.
#
# The tests never touch a user's services or data. Their Temporal (namespace sptar-test) and MinIO listen on the
# first free ports from the configured ones + 10000 (17233, 18233, 19000, 19001 by default), keep their state in
# .state/test/ (wiped when a run starts, its data removed after a passing run) and have their own S3 credentials;
# they are the only services the fault tests stop and restart. Services already running on the configured ports
# (`npm run services:start`, `npm start`), their namespaces, workflows and buckets are left exactly as they are.
#
# What the test processes print (worker logs, among them the warnings of tests that provoke failures on purpose)
# goes to .state/test/logs/test-output.log; for a file with a failing test its last lines follow the results.
# Usage: infra/run-tests.sh [all|unit|integration|FILE...]   (default all: type-check, lint, every test)
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

suite="${1:-all}"
checks=false
files=()
case "$suite" in
  all) checks=true; mapfile -t files < <(node infra/list-tests.mjs all) ;;
  unit|integration) mapfile -t files < <(node infra/list-tests.mjs "$suite") ;;
  *) files=("$@") ;;
esac
[[ ${#files[@]} -gt 0 ]] || die "no test files to run"
needs_services=false
for f in "${files[@]}"; do [[ -f "$f" ]] || die "no test file $f"; [[ "$f" == *integration/* ]] && needs_services=true; done

bash infra/install.sh

if $checks; then
  log "type-checking"
  npx --no-install tsc --noEmit -p .
  log "linting"
  npx --no-install eslint .
fi

# --- the tests' own services and settings ---------------------------------------------------------------------
TEST_STATE_DIR="$STATE_DIR/test"
lock="$TEST_STATE_DIR/run-tests.pid"
if [[ -f "$lock" ]] && kill -0 "$(cat "$lock")" 2>/dev/null; then
  die "another test run (pid $(cat "$lock")) is using $TEST_STATE_DIR; wait for it to finish."
fi

picked=()
# pick_port VAR CONFIGURED: VAR = the first port from CONFIGURED + 10000 up that nothing listens on.
pick_port() {
  local p=$(($2 + 10000))
  (( p < 65536 )) || p=$((20000 + $2 % 10000))
  while port_in_use "$p" || [[ " ${picked[*]} " == *" $p "* ]]; do p=$((p + 1)); done
  picked+=("$p")
  printf -v "$1" '%s' "$p"
}
pick_port TEMPORAL_PORT "$TEMPORAL_PORT"
pick_port TEMPORAL_UI_PORT "$TEMPORAL_UI_PORT"
pick_port SPTAR_S3_PORT "$S3_PORT"
pick_port SPTAR_S3_CONSOLE_PORT "$S3_CONSOLE_PORT"
# Everything a test process, worker, CLI or infra/services.sh reads to find its services points at the tests' own.
export SPTAR_STATE_DIR="$TEST_STATE_DIR" TEMPORAL_DB="$TEST_STATE_DIR/temporal/temporal.db"
export TEMPORAL_PORT TEMPORAL_UI_PORT SPTAR_S3_PORT SPTAR_S3_CONSOLE_PORT
export TEMPORAL_NAMESPACE="sptar-test" TEMPORAL_ADDRESS="127.0.0.1:$TEMPORAL_PORT"
export SPTAR_STORE=s3 SPTAR_S3_ENDPOINT="http://127.0.0.1:$SPTAR_S3_PORT" SPTAR_S3_BUCKET=sptar-artifacts SPTAR_S3_REGION=us-east-1
# The workers' user, which infra/services.sh creates limited to the artifact bucket, and the test MinIO's root
# account (exported so that a test restarting MinIO through infra/services.sh starts it with the same one).
export SPTAR_S3_ACCESS_KEY=sptar-test SPTAR_S3_SECRET_KEY=sptar-test-secret
export SPTAR_S3_ROOT_USER=sptar-test-root SPTAR_S3_ROOT_PASSWORD=sptar-test-root-secret
export SPTAR_LOCAL_STORE_DIR="$TEST_STATE_DIR/artifacts"
unset TEMPORAL_UI_URL
# The tests' dev server speaks plaintext: TLS settings meant for another cluster do not apply to it.
unset TEMPORAL_TLS TEMPORAL_TLS_SERVER_CA_CERT_PATH TEMPORAL_TLS_CLIENT_CERT_PATH TEMPORAL_TLS_CLIENT_KEY_PATH TEMPORAL_TLS_SERVER_NAME TEMPORAL_API_KEY
# test/support/services.ts refuses to run integration tests, or restart services, without this.
export SPTAR_TEST_SERVICES=own

# Services left behind by an interrupted run in this checkout are the tests' own: stop them, start from scratch.
bash infra/services.sh stop >/dev/null 2>&1 || true
rm -rf "$TEST_STATE_DIR"
mkdir -p "$TEST_STATE_DIR"
echo $$ > "$lock"
cleanup() {
  local rc=$?
  if $needs_services; then bash infra/services.sh stop || true; fi
  # A passing run leaves only its logs; a failing one keeps the services' data for a look (the next run wipes it).
  if (( rc == 0 )); then rm -rf "$TEST_STATE_DIR/minio" "$TEST_STATE_DIR/temporal" "$TEST_STATE_DIR/artifacts"; fi
  rm -f "$lock"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if $needs_services; then
  log "starting the tests' own services (state in ${TEST_STATE_DIR#"$ROOT/"}/, Temporal namespace $TEMPORAL_NAMESPACE)"
  bash infra/services.sh start
fi

log "running ${#files[@]} test files"
SPTAR_TEST_OUTPUT_LOG="$TEST_STATE_DIR/logs/test-output.log" SPTAR_LOG_LEVEL="${SPTAR_LOG_LEVEL:-WARN}" \
  node --import tsx --test --test-concurrency=1 --test-reporter=./infra/test-reporter.mjs --test-reporter-destination=stdout "${files[@]}"
