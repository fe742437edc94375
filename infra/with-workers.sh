#!/usr/bin/env bash
# Runs a command against live workers: installs what is missing, starts Temporal and MinIO, starts an orchestrator
# worker and a model worker, runs the command (`npm start` starts the default SciFact run; `npm run bench:scifact`
# the benchmark run), and stops the workers. Services stay up so runs stay visible in the UI (stop them with
# `npm run services:stop`).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

bash infra/install.sh
bash infra/services.sh start
mkdir -p "$STATE_DIR/logs"
# Orchestration and model work in separate processes, as on a cluster: long model steps never delay workflow tasks.
node --import tsx workers/worker.ts --queue orchestrator >>"$STATE_DIR/logs/worker-orchestrator.log" 2>&1 &
orchestrator_pid=$!
node --import tsx workers/worker.ts --queue model >>"$STATE_DIR/logs/worker-model.log" 2>&1 &
model_pid=$!
trap 'kill -TERM "$orchestrator_pid" "$model_pid" 2>/dev/null; wait "$orchestrator_pid" "$model_pid" 2>/dev/null || true' EXIT
log "workers started (orchestrator pid $orchestrator_pid, model pid $model_pid; logs in $STATE_DIR/logs/)"
node --import tsx "$@"
log "Temporal UI: http://127.0.0.1:$TEMPORAL_UI_PORT/namespaces/$TEMPORAL_NAMESPACE/workflows"
