#!/usr/bin/env bash
# shellcheck disable=SC2317 # the functions below run through run_step
# Every test, the way CI runs them:
#   1. install-tools  .tools/ (venv, DynamoDB Local, cargo-nextest if missing)
#   2. services       DynamoDB Local and moto_server (S3) on free loopback ports
#   3. nextest        cargo nextest run --workspace --all-features --no-fail-fast (debug)
#   4. browser        the display board and CORS in headless Chromium (tests/browser/)
#   5. cfn-lint       template.yaml
#   6. schemathesis   OpenAPI fuzzing of the dev server (when infra/scripts/schemathesis.sh exists)
# Every step runs even when an earlier one failed (but for what cannot run without the
# earlier one); the services are stopped on exit; the exit status is non-zero when any step
# failed. Logs of the services: target/infra-test/.
#
#   bash infra/test.sh
#   bash infra/test.sh -E 'test(login)'    # extra arguments go to cargo nextest run
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.tools/venv"
DDB_DIR="$ROOT/.tools/dynamodb"
LOGS="$ROOT/target/infra-test"
cd "$ROOT" || exit 1

log() { echo "test.sh: $*" >&2; }

declare -a step_names=() step_results=()
failed=0
record() { # record NAME ok|FAILED|skipped SECONDS
    step_names+=("$1")
    step_results+=("$2")
    [[ "$2" == FAILED ]] && failed=1
    log "== $1: $2 ($3 s)"
}
run_step() { # run_step NAME COMMAND...
    local name="$1" t rc
    shift
    log "== $name: $*"
    t=$(date +%s)
    "$@" </dev/null
    rc=$?
    if ((rc == 0)); then record "$name" ok $(($(date +%s) - t)); else record "$name" FAILED $(($(date +%s) - t)); fi
    return $rc
}
summary() {
    local line="" i
    for i in "${!step_names[@]}"; do line+="${line:+, }${step_names[$i]} ${step_results[$i]}"; done
    echo "test.sh summary: $line"
    if ((failed)); then echo "test.sh: FAILED"; else echo "test.sh: all steps passed"; fi
}

# ---------------------------------------------------------------- services
moto_pid=""
ddb_started=""
cleanup() {
    if [[ -n "$moto_pid" ]] && kill -0 "$moto_pid" 2>/dev/null; then
        kill "$moto_pid" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$moto_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$moto_pid" 2>/dev/null || true
        log "stopped moto_server (pid $moto_pid)"
    fi
    moto_pid=""
    if [[ -n "$ddb_started" ]]; then
        bash infra/scripts/dynamodb-local.sh stop || true
    fi
    ddb_started=""
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A DynamoDB Local that infra/scripts/dynamodb-local.sh already runs (a developer's) is
# reused and left running; otherwise one is started here and stopped on exit.
running_ddb_port() {
    local pid port
    pid="$(cat "$DDB_DIR/dynamodb-local.pid" 2>/dev/null)" || return 1
    port="$(cat "$DDB_DIR/dynamodb-local.port" 2>/dev/null)" || return 1
    [[ -n "$pid" && -n "$port" ]] && kill -0 "$pid" 2>/dev/null \
        && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q DynamoDBLocal.jar \
        && echo "$port"
}

start_services() {
    mkdir -p "$LOGS"
    local port url
    if port="$(running_ddb_port)"; then
        url="$(bash infra/scripts/dynamodb-local.sh start "$port")" || return 1
        log "reusing the running DynamoDB Local at $url"
    else
        port="$(free_port)" || return 1
        ddb_started=1
        url="$(bash infra/scripts/dynamodb-local.sh start "$port")" || return 1
        log "DynamoDB Local at $url"
    fi
    export DYNAMODB_ENDPOINT="$url"

    port="$(free_port)" || return 1
    "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$LOGS/moto.log" 2>&1 &
    moto_pid=$!
    local waited=0
    until curl -s -o /dev/null "http://127.0.0.1:$port/moto-api/"; do
        if ! kill -0 "$moto_pid" 2>/dev/null; then
            log "moto_server exited before it answered:"
            tail -n 30 "$LOGS/moto.log" >&2
            moto_pid=""
            return 1
        fi
        if ((++waited > 300)); then
            log "moto_server did not answer on port $port within 30 s (log: $LOGS/moto.log)"
            return 1
        fi
        sleep 0.1
    done
    export S3_ENDPOINT="http://127.0.0.1:$port"
    export MOTO_ENDPOINT="$S3_ENDPOINT" # the boards' Management API tests (tests/api/live_aws.rs)
    log "moto_server (S3) at $S3_ENDPOINT, pid $moto_pid"

    export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
    export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
    # No instance metadata lookups, no profile from the developer's ~/.aws.
    export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
    unset AWS_PROFILE AWS_SESSION_TOKEN
}

# ---------------------------------------------------------------- steps
if ! run_step install-tools bash infra/scripts/install-tools.sh; then
    summary
    exit 1
fi
export PATH="$VENV/bin:$ROOT/.tools/cargo/bin:$PATH"

if run_step services start_services; then
    run_step nextest cargo nextest run --workspace --all-features --no-fail-fast "$@"
else
    record nextest skipped 0
fi

# The display board in headless Chromium (starts its own dev server; screenshots in target/browser/).
run_step browser-board node tests/browser/board.test.js
# The board's announcements in words and its page split, without a browser.
run_step browser-board-text node tests/browser/board_text.test.js
# The connection dropped in the middle of a burst of calls: "reconnecting", the full state again,
# every call announced in order (speech recorded in the page).
run_step browser-board-reconnect node tests/browser/board_reconnect.test.js
# Calls made while a board was offline (two at one poly, a recall, one at another): all announced
# once it is back, in order, none twice; a board limited to one room id hears that room only.
run_step browser-board-catchup node tests/browser/board_catchup.test.js
# 1, 6 and 20 sections on a 1920×1080 screen: every section inside the viewport, no scrolling.
run_step browser-board-layout node tests/browser/board_layout.test.js
# The patient's ticket page in headless Chromium: live, that ticket only.
run_step browser-ticket node tests/browser/ticket.test.js
# CORS in headless Chromium: allowed origins log in and call the API, others are refused.
run_step browser-cors node tests/browser/cors.test.js

run_step cfn-lint "$VENV/bin/cfn-lint" template.yaml

if [[ -f infra/scripts/schemathesis.sh ]]; then
    run_step schemathesis bash infra/scripts/schemathesis.sh
else
    record schemathesis skipped 0
fi

cleanup
summary
exit $failed
