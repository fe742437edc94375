#!/usr/bin/env bash
# The main job end to end on the default config: installs what is missing, starts Temporal and MinIO, starts a
# worker, runs the job through Temporal, and stops the worker. Services stay up so the run stays visible in the UI
# (stop them with `npm run services:stop`).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

bash infra/install.sh
bash infra/services.sh start
mkdir -p "$STATE_DIR/logs"
node --import tsx workers/worker.ts --queue all >>"$STATE_DIR/logs/worker.log" 2>&1 &
worker_pid=$!
trap 'kill -TERM "$worker_pid" 2>/dev/null; wait "$worker_pid" 2>/dev/null || true' EXIT
log "worker started (pid $worker_pid, log $STATE_DIR/logs/worker.log)"
node --import tsx workers/cli.ts start "${1:-configs/scifact-default.json}"
log "Temporal UI: http://127.0.0.1:$TEMPORAL_UI_PORT/namespaces/$TEMPORAL_NAMESPACE/workflows"
