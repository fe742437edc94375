#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what is missing, starts the real services, type-checks,
# lints, then runs unit and integration tests in one `node --test` run. Services this script started are stopped
# at the end; services that were already running are left alone.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

bash infra/install.sh
started=()
for s in temporal objectstore; do
  if ! bash infra/services.sh status "$s" | grep -q running; then started+=("$s"); fi
done
cleanup() { if [[ ${#started[@]} -gt 0 ]]; then bash infra/services.sh stop "${started[@]}" || true; fi; }
trap cleanup EXIT
bash infra/services.sh start

log "type-checking"
npx --no-install tsc --noEmit -p .
log "linting"
npx --no-install eslint .
log "running tests"
mapfile -t files < <(node infra/list-tests.mjs all)
SPTAR_LOG_LEVEL="${SPTAR_LOG_LEVEL:-WARN}" node --import tsx --test --test-concurrency=1 "${files[@]}"
