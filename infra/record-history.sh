#!/usr/bin/env bash
# Saves a finished workflow run's history as a replay fixture: test/fixtures/histories/NAME.json.
# Usage: infra/record-history.sh NAME WORKFLOW_ID [RUN_ID]
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
[[ $# -ge 2 ]] || die "usage: infra/record-history.sh NAME WORKFLOW_ID [RUN_ID]"
name="$1" wid="$2" rid="${3:-}"
out="$ROOT/test/fixtures/histories/$name.json"
mkdir -p "$(dirname "$out")"
args=(workflow show --address "${TEMPORAL_ADDRESS:-127.0.0.1:$TEMPORAL_PORT}" --namespace "$TEMPORAL_NAMESPACE" -w "$wid" -o json)
[[ -n "$rid" ]] && args+=(-r "$rid")
"$TEMPORAL_BIN" "${args[@]}" | python3 -c 'import json,sys; print(json.dumps({"workflowId": sys.argv[1], "history": json.load(sys.stdin)}))' "$wid" > "$out"
log "recorded $wid${rid:+ run $rid} -> $out"
