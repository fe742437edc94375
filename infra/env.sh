# Shared settings and helpers for infra scripts. Every value can be overridden from the environment.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=versions.sh
source "$ROOT/infra/versions.sh"

TOOLS_DIR="${SPTAR_TOOLS_DIR:-$ROOT/.tools}"
CACHE_DIR="${SPTAR_CACHE_DIR:-$ROOT/.cache}"
STATE_DIR="${SPTAR_STATE_DIR:-$ROOT/.state}"
MODELS_DIR="${SPTAR_MODELS_DIR:-$ROOT/models}"
TEMPORAL_BIN="$TOOLS_DIR/bin/temporal"
MINIO_BIN="$TOOLS_DIR/bin/minio"

TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
TEMPORAL_NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
TEMPORAL_DB="${TEMPORAL_DB:-$STATE_DIR/temporal/temporal.db}"
S3_PORT="${SPTAR_S3_PORT:-9000}"
S3_CONSOLE_PORT="${SPTAR_S3_CONSOLE_PORT:-9001}"
# Node processes (workers, tests, the CLI) find the services started here through these, unless pointed elsewhere.
export TEMPORAL_UI_PORT
export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:$TEMPORAL_PORT}"
export SPTAR_S3_ENDPOINT="${SPTAR_S3_ENDPOINT:-http://127.0.0.1:$S3_PORT}"
# The workers' own MinIO user: infra/services.sh creates it with access to the artifact bucket only (the same
# defaults as workers/s3-default-credentials.ts).
export SPTAR_S3_ACCESS_KEY="${SPTAR_S3_ACCESS_KEY:-sptar-worker}"
export SPTAR_S3_SECRET_KEY="${SPTAR_S3_SECRET_KEY:-sptar-worker-secret}"
export SPTAR_S3_BUCKET="${SPTAR_S3_BUCKET:-sptar-artifacts}"
# MinIO's root account, for infra/services.sh alone (it runs MinIO and manages its users). Not exported: the workers
# and the CLI these scripts start never see it.
S3_ROOT_USER="${SPTAR_S3_ROOT_USER:-sptar-admin}"
S3_ROOT_PASSWORD="${SPTAR_S3_ROOT_PASSWORD:-sptar-admin-secret}"
MINIO_ADMIN_BIN="$TOOLS_DIR/bin/sptar-minio-admin"

# Folders whose files a config may name (datasets, models, tokenizers): the checkout, the shared folder beside it
# when there is one (this repository's checkouts keep SciFact and the tokenizers there), and the models folder
# wherever SPTAR_MODELS_DIR puts it. Workers compare paths without resolving symlinks, so each folder is listed as
# spelled here and as the kernel reports it (node's working directory and module paths are the latter).
if [[ -z "${SPTAR_DATA_ROOTS:-}" ]]; then
  data_roots=()
  # add_data_root DIR: DIR's spellings, once each; a folder that does not exist yet (models before the install) as given.
  add_data_root() {
    local spelling
    if [[ -d "$1" ]]; then set -- "$(cd "$1" && pwd)" "$(cd "$1" && pwd -P)"; fi
    for spelling in "$@"; do
      [[ " ${data_roots[*]} " == *" $spelling "* ]] || data_roots+=("$spelling")
    done
  }
  add_data_root "$ROOT"
  for shared in "$ROOT/../shared" "$(cd "$ROOT" && pwd -P)/../shared"; do
    if [[ -d "$shared" ]]; then add_data_root "$shared"; fi
  done
  add_data_root "$MODELS_DIR"
  SPTAR_DATA_ROOTS="$(IFS=:; printf '%s' "${data_roots[*]}")"
  unset -f add_data_root
  unset data_roots shared
fi
export SPTAR_DATA_ROOTS

# Custom search attributes the pipeline writes; registered on the dev server at start.
SEARCH_ATTRIBUTES=(SptarStage=Keyword SptarDataset=Keyword SptarProgress=Double SptarConfigHash=Keyword)

log() { printf '[sptar-infra] %s\n' "$*" >&2; }
die() { printf '[sptar-infra] ERROR: %s\n' "$*" >&2; exit 1; }

require_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed or not on PATH. $2"
}

# verify_sha256 FILE EXPECTED: stop with a clear message on mismatch.
verify_sha256() {
  local file="$1" expected="$2" actual
  actual="$(sha256sum "$file" | cut -d' ' -f1)"
  if [[ "$actual" != "$expected" ]]; then
    die "checksum mismatch for $file: expected $expected, got $actual. Delete the file and re-run 'npm run install:all'; if it persists, the registry serves different bytes than the pinned version in infra/versions.sh."
  fi
}

# pip_download PACKAGE==VERSION WHEEL_NAME SHA256 -> path of the verified wheel in the cache. pip's own output goes
# to the install log of the current part ($INSTALL_LOG, set by infra/install.sh), else to stderr.
pip_download() {
  local spec="$1" wheel="$2" sha="$3" dir="$CACHE_DIR/wheels" out="${INSTALL_LOG:-/dev/stderr}"
  mkdir -p "$dir"
  if [[ ! -f "$dir/$wheel" ]]; then
    require_cmd python3 "Install Python 3 with pip."
    printf '\n$ pip download %s\n' "$spec" >>"$out"
    # --no-cache-dir: the wheel is kept in .cache/wheels only as long as the install needs it, not in ~/.cache/pip.
    python3 -m pip download --no-cache-dir --progress-bar off --no-deps --only-binary=:all: -d "$dir" "$spec" >>"$out" 2>&1 \
      || die "pip could not download $spec. Check that PyPI is reachable (pip config list) and the version exists.${INSTALL_LOG:+ Output of pip: $INSTALL_LOG}"
    [[ -f "$dir/$wheel" ]] || die "pip downloaded $spec but $dir/$wheel is missing; the wheel name in infra/versions.sh is out of date."
  fi
  verify_sha256 "$dir/$wheel" "$sha"
  printf '%s\n' "$dir/$wheel"
}

# port_owner PORT: prints "pid/cmd" of a listening process, empty if the port is free.
port_owner() {
  ss -Htlnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\"\([^\"]*\)\",pid=\([0-9]*\).*/\2\/\1/p' | head -n1
}
port_in_use() { [[ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]]; }

# wait_for NAME TIMEOUT_S CMD...: retry CMD until it succeeds or the timeout passes.
wait_for() {
  local name="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS >= deadline )); then return 1; fi
    sleep 0.5
  done
  log "$name is ready"
}
