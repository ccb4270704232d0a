#!/usr/bin/env bash
# Installs what the tests, the fuzzer and the Lambda build need, into .tools/ (gitignored):
#
#   .tools/venv      Python venv: cfn-lint, cargo-lambda (+ zig from the ziglang wheel),
#                    moto_server (the S3 stand-in), schemathesis
#   .tools/dynamodb  DynamoDB Local (infra/scripts/dynamodb-local.sh install)
#   .tools/cargo     cargo-nextest, only when the machine has none
#
# Idempotent: what is already there at the pinned versions is skipped, so a second run takes
# about a second. Needs python3 (3.9+), java 17+, npm, curl and Chromium (browser test); as
# root with apt-get it installs the Debian packages of the missing ones.
#
#   bash infra/scripts/install-tools.sh
#   export PATH="$PWD/.tools/venv/bin:$PATH"
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv"

# One pip resolve for all of them. Bump deliberately.
# cfn-lint: 1.54+ dropped the real SAM transform and validates AWS::Serverless resources
# against partial schemas (typos inside HttpApi properties and wrong Globals values pass);
# 1.53 still runs aws-sam-translator, so it checks what CloudFormation will actually get.
# SAM CLI pins the same range for the same reason.
# ziglang: cargo-lambda finds zig as `python3 -m ziglang` (the venv's python3 on PATH).
PY_REQUIREMENTS=(
    "cfn-lint>=1.53.3,<1.54"
    "cargo-lambda>=1.9,<2"
    "ziglang>=0.15,<0.18"
    "moto[server]>=5.1,<6"
    "schemathesis>=4,<5"
)
PY_COMMANDS=(cfn-lint cargo-lambda moto_server schemathesis)

log() { echo "install-tools: $*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s; }

apt_updated=""
apt_install() {
    if ! command -v apt-get >/dev/null || [[ "$(id -u)" != 0 ]]; then
        die "missing $*; install it (Debian package: $*)"
    fi
    if [[ -z "$apt_updated" ]]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        apt_updated=1
    fi
    log "installing Debian package(s): $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

step() { # step NAME SECONDS_SINCE
    log "$1 ($(($(now) - $2)) s)"
}

started=$(now)
mkdir -p "$TOOLS"

# ---------------------------------------------------------------- system commands
command -v curl >/dev/null || apt_install curl ca-certificates
command -v python3 >/dev/null || apt_install python3 python3-venv
python3 -c 'import sys; sys.exit(sys.version_info < (3, 9))' \
    || die "python3 is $(python3 -V 2>&1); 3.9 or newer is needed"
command -v java >/dev/null || apt_install openjdk-17-jre-headless
command -v npm >/dev/null || apt_install npm
# The display-board browser test (tests/browser/board.test.js) drives Debian's Chromium.
[[ -x "${CHROMIUM:-/usr/bin/chromium}" ]] || apt_install chromium

# ---------------------------------------------------------------- Python venv
t=$(now)
wanted="$(printf '%s\n' "$(python3 -V 2>&1)" "${PY_REQUIREMENTS[@]}")"
stamp="$VENV/.install-tools-requirements"
venv_ok() {
    [[ -x "$VENV/bin/python3" ]] && "$VENV/bin/python3" -c 'import sys' 2>/dev/null || return 1
    [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]] || return 1
    local c
    for c in "${PY_COMMANDS[@]}"; do [[ -x "$VENV/bin/$c" ]] || return 1; done
    "$VENV/bin/python3" -c 'import ziglang' 2>/dev/null
}
if venv_ok; then
    log "venv up to date: $VENV"
else
    if ! [[ -x "$VENV/bin/python3" ]] || ! "$VENV/bin/python3" -c 'import sys' 2>/dev/null; then
        rm -rf "$VENV"
        log "creating venv $VENV ($(python3 -V 2>&1))"
        if ! python3 -m venv "$VENV" >&2; then
            rm -rf "$VENV"
            apt_install python3-venv
            python3 -m venv "$VENV" >&2
        fi
    fi
    log "pip install ${PY_REQUIREMENTS[*]}"
    "$VENV/bin/python3" -m pip install --disable-pip-version-check --no-input -q "${PY_REQUIREMENTS[@]}" >&2
    for c in "${PY_COMMANDS[@]}"; do
        [[ -x "$VENV/bin/$c" ]] || die "$c is missing from $VENV/bin after pip install"
    done
    echo "$wanted" >"$stamp"
    "$VENV/bin/python3" -m pip list --disable-pip-version-check 2>/dev/null \
        | grep -i -E '^(cfn-lint|aws-sam-translator|cargo-lambda|ziglang|moto|schemathesis) ' \
        | sed 's/^/install-tools:   /' >&2
    step "venv installed" "$t"
fi

# ---------------------------------------------------------------- cargo-nextest
t=$(now)
if cargo nextest --version >/dev/null 2>&1; then
    log "cargo-nextest present: $(cargo nextest --version 2>/dev/null | head -n 1)"
elif [[ -x "$TOOLS/cargo/bin/cargo-nextest" ]]; then
    log "cargo-nextest present: $TOOLS/cargo/bin/cargo-nextest"
else
    log "cargo install cargo-nextest into $TOOLS/cargo (a few minutes)"
    cargo install --locked --root "$TOOLS/cargo" cargo-nextest >&2
    step "cargo-nextest installed" "$t"
fi

# ---------------------------------------------------------------- DynamoDB Local
t=$(now)
if [[ -f "$TOOLS/dynamodb/DynamoDBLocal.jar" && -d "$TOOLS/dynamodb/DynamoDBLocal_lib" ]]; then
    log "DynamoDB Local present: $TOOLS/dynamodb"
else
    bash "$ROOT/infra/scripts/dynamodb-local.sh" install
    step "DynamoDB Local installed" "$t"
fi

step "all tools ready" "$started"
