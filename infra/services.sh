#!/usr/bin/env bash
# Start, stop and check the local services: the Temporal dev server (SQLite-backed, Web UI on) and a MinIO
# object store. State lives in .state/ so a restart keeps finished workflows and stored artifacts.
# Usage: infra/services.sh start|stop|restart|status [temporal|objectstore]
# Ports, namespace and state folder come from the environment (infra/env.sh); infra/run-tests.sh points them at the
# tests' own instances, so a test that restarts a service restarts only the one its run started.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

LOG_DIR="$STATE_DIR/logs"
PID_DIR="$STATE_DIR/pids"
mkdir -p "$LOG_DIR" "$PID_DIR"

pid_alive() { local f="$PID_DIR/$1.pid"; [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null; }

# The dev server started here speaks plaintext gRPC: these CLI calls ignore the TEMPORAL_TLS*/TEMPORAL_API_KEY
# variables and the CLI's config file, which may describe another, secured cluster the workers are pointed at.
local_temporal() { "$TEMPORAL_BIN" "$@" --address "127.0.0.1:$TEMPORAL_PORT" --disable-config-env --disable-config-file; }

temporal_healthy() {
  local_temporal operator cluster health 2>/dev/null | grep -q SERVING
}
objectstore_healthy() { curl -fsS -o /dev/null "http://127.0.0.1:$S3_PORT/minio/health/live"; }

# check_port PORT SERVICE VAR: fail clearly when another process owns a port we need.
check_port() {
  if port_in_use "$1"; then
    die "port $1 (needed by $2) is taken by $(port_owner "$1" || echo 'another process'). Stop that process, or set $3 to a free port."
  fi
}

# A server already running may have been started for another namespace (the user's runs in 'default', a benchmark
# in its own): create the configured one and register the pipeline's search attributes there when missing.
namespace_ready() {
  local existing a
  existing="$(local_temporal operator search-attribute list -n "$TEMPORAL_NAMESPACE" 2>/dev/null)" || return 1
  for a in "${SEARCH_ATTRIBUTES[@]}"; do grep -qw "${a%%=*}" <<<"$existing" || return 1; done
}
register_search_attributes() {
  local a
  for a in "${SEARCH_ATTRIBUTES[@]}"; do
    local_temporal operator search-attribute create -n "$TEMPORAL_NAMESPACE" --name "${a%%=*}" --type "${a#*=}" >/dev/null 2>&1 || true
  done
  namespace_ready
}
ensure_namespace() {
  namespace_ready && return
  if ! local_temporal operator namespace describe -n "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
    local_temporal operator namespace create -n "$TEMPORAL_NAMESPACE" >/dev/null \
      || die "could not create Temporal namespace '$TEMPORAL_NAMESPACE'; see $LOG_DIR/temporal.log"
    log "created Temporal namespace $TEMPORAL_NAMESPACE"
  fi
  # A new namespace reaches every server component within seconds; retry until the attributes are registered.
  wait_for "search attributes in namespace $TEMPORAL_NAMESPACE" 60 register_search_attributes \
    || die "could not register search attributes in namespace '$TEMPORAL_NAMESPACE'; see $LOG_DIR/temporal.log"
}

start_temporal() {
  if pid_alive temporal && temporal_healthy; then
    log "Temporal already running on 127.0.0.1:$TEMPORAL_PORT"
    ensure_namespace
    return
  fi
  [[ -x "$TEMPORAL_BIN" ]] || die "Temporal CLI missing at $TEMPORAL_BIN; run 'npm run install:all' (or infra/install.sh temporal)."
  check_port "$TEMPORAL_PORT" "Temporal gRPC" TEMPORAL_PORT
  check_port "$TEMPORAL_UI_PORT" "Temporal Web UI" TEMPORAL_UI_PORT
  mkdir -p "$(dirname "$TEMPORAL_DB")"
  local sa=() a
  for a in "${SEARCH_ATTRIBUTES[@]}"; do sa+=(--search-attribute "$a"); done
  log "starting Temporal dev server (gRPC 127.0.0.1:$TEMPORAL_PORT, UI http://127.0.0.1:$TEMPORAL_UI_PORT, db $TEMPORAL_DB)"
  setsid nohup "$TEMPORAL_BIN" server start-dev \
    --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
    --db-filename "$TEMPORAL_DB" --namespace "$TEMPORAL_NAMESPACE" --log-level warn "${sa[@]}" \
    >>"$LOG_DIR/temporal.log" 2>&1 < /dev/null &
  echo $! > "$PID_DIR/temporal.pid"
  wait_for "Temporal" 60 temporal_healthy || die "Temporal did not become healthy within 60 s; see $LOG_DIR/temporal.log"
  wait_for "Temporal Web UI" 60 curl -fsS -o /dev/null "http://127.0.0.1:$TEMPORAL_UI_PORT/api/v1/namespaces/$TEMPORAL_NAMESPACE" \
    || die "Temporal Web UI did not answer on port $TEMPORAL_UI_PORT; see $LOG_DIR/temporal.log"
}

# The workers get a MinIO user of their own (SPTAR_S3_ACCESS_KEY / SPTAR_S3_SECRET_KEY) whose policy allows the
# artifact bucket only; the root account stays with this script. Idempotent: run on every start, also when MinIO
# was already running, so a changed secret or bucket takes effect.
ensure_worker_user() {
  local here out
  for here in "http://127.0.0.1:$S3_PORT" "http://localhost:$S3_PORT"; do
    [[ "${SPTAR_S3_ENDPOINT%/}" == "$here" ]] && break
    here=""
  done
  if [[ -z "$here" ]]; then
    log "SPTAR_S3_ENDPOINT is $SPTAR_S3_ENDPOINT, not this MinIO: no worker user created here"
    return
  fi
  [[ -x "$MINIO_ADMIN_BIN" ]] || die "MinIO admin tool missing at $MINIO_ADMIN_BIN; run 'npm run install:all' (or infra/install.sh objectstore)."
  out="$(MINIO_ROOT_USER="$S3_ROOT_USER" MINIO_ROOT_PASSWORD="$S3_ROOT_PASSWORD" \
    "$MINIO_ADMIN_BIN" -endpoint "http://127.0.0.1:$S3_PORT" -bucket "$SPTAR_S3_BUCKET" 2>&1)" \
    || die "could not create the workers' MinIO user: $out"
  log "$out"
}

start_objectstore() {
  if pid_alive objectstore && objectstore_healthy; then
    log "MinIO already running on 127.0.0.1:$S3_PORT"
    ensure_worker_user
    return
  fi
  [[ -x "$MINIO_BIN" ]] || die "MinIO server missing at $MINIO_BIN; run 'npm run install:all' (or infra/install.sh objectstore)."
  check_port "$S3_PORT" "MinIO S3 API" SPTAR_S3_PORT
  check_port "$S3_CONSOLE_PORT" "MinIO console" SPTAR_S3_CONSOLE_PORT
  mkdir -p "$STATE_DIR/minio"
  log "starting MinIO (S3 API http://127.0.0.1:$S3_PORT, console http://127.0.0.1:$S3_CONSOLE_PORT, data $STATE_DIR/minio)"
  MINIO_ROOT_USER="$S3_ROOT_USER" MINIO_ROOT_PASSWORD="$S3_ROOT_PASSWORD" MINIO_UPDATE=off setsid nohup "$MINIO_BIN" server "$STATE_DIR/minio" \
    --address "127.0.0.1:$S3_PORT" --console-address "127.0.0.1:$S3_CONSOLE_PORT" --quiet \
    >>"$LOG_DIR/objectstore.log" 2>&1 < /dev/null &
  echo $! > "$PID_DIR/objectstore.pid"
  wait_for "MinIO" 60 objectstore_healthy || die "MinIO did not become healthy within 60 s; see $LOG_DIR/objectstore.log"
  wait_for "MinIO console" 30 curl -fsS -o /dev/null "http://127.0.0.1:$S3_CONSOLE_PORT/" \
    || die "the MinIO console did not answer on port $S3_CONSOLE_PORT; see $LOG_DIR/objectstore.log"
  ensure_worker_user
}

stop_one() {
  local name="$1" f="$PID_DIR/$1.pid" pid
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "-$pid" 2>/dev/null || true
    log "stopped $name"
  fi
  rm -f "$f"
}

addresses() {
  case "$1" in
    temporal) echo "gRPC 127.0.0.1:$TEMPORAL_PORT, UI http://127.0.0.1:$TEMPORAL_UI_PORT" ;;
    objectstore) echo "S3 http://127.0.0.1:$S3_PORT, console http://127.0.0.1:$S3_CONSOLE_PORT" ;;
  esac
}
status_one() {
  local name="$1"
  if pid_alive "$name" && "${name}_healthy"; then echo "$name: running (pid $(cat "$PID_DIR/$name.pid"); $(addresses "$name"))"
  elif pid_alive "$name"; then echo "$name: started but not healthy"
  else echo "$name: stopped"; fi
}

action="${1:-status}"
services=("${@:2}")
[[ ${#services[@]} -gt 0 ]] || services=(temporal objectstore)
for s in "${services[@]}"; do
  [[ "$s" == temporal || "$s" == objectstore ]] || die "unknown service '$s' (expected temporal or objectstore)"
done
case "$action" in
  start) for s in "${services[@]}"; do "start_$s"; done ;;
  stop) for s in "${services[@]}"; do stop_one "$s"; done ;;
  restart) for s in "${services[@]}"; do stop_one "$s"; "start_$s"; done ;;
  status) for s in "${services[@]}"; do status_one "$s"; done ;;
  *) die "unknown action '$action' (expected start, stop, restart or status)" ;;
esac
