#!/usr/bin/env bash
# Runs a command against live workers: installs what is missing, starts Temporal and MinIO, starts an orchestrator
# worker and a model worker, runs the command (`npm start` starts the default SciFact run; `npm run bench:scifact`
# the benchmark run), and stops the workers. Services stay up so runs stay visible in the UI (stop them with
# `npm run services:stop`).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

# The default config reads data/scifact, which `sptar start` fetches from BEIR when it is missing. This repository's
# own checkouts have SciFact beside them in ../shared/data/scifact: link that instead of downloading. That copy is
# not byte-for-byte BEIR's archive, so it gets no .sptar-dataset.json and the CLI reports it as "not fetched by
# sptar". A clone without ../shared fetches; remove the link to fetch the archive here too.
if [[ ! -e data/scifact && ! -L data/scifact && -d ../shared/data/scifact ]]; then
  mkdir -p data
  ln -s ../../shared/data/scifact data/scifact
  log "data/scifact -> ../shared/data/scifact (this checkout's shared copy, not downloaded)"
fi

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
# The command prints its run's own UI link (and `sptar start` the reports and the commands that follow).
node --import tsx "$@"
