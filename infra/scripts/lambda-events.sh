#!/usr/bin/env bash
# The Lambda entry points with real events (tests/lambda): every function's prebuilt bootstrap
# runs under `cargo lambda watch --only-lambda-apis` (the Lambda Runtime API emulator) with the
# environment template.yaml gives it, against DynamoDB Local and moto, and gets API Gateway's
# HTTP API and WebSocket events and EventBridge's scheduled events; each HTTP answer is
# compared with the dev server's; template.yaml's routes are checked against the code's.
#
#   bash infra/scripts/build-lambdas.sh && bash infra/scripts/lambda-events.sh   # as CI does
#   cargo build -p auth -p site … && LAMBDA_BOOTSTRAPS=target/debug bash infra/scripts/lambda-events.sh
#   bash infra/scripts/lambda-events.sh -E 'test(/routes/)'    # extra arguments go to nextest
#
# It never builds a function: it runs the bootstraps build-lambdas.sh made (target/lambda, or
# LAMBDA_BOOTSTRAPS), and fails when one of template.yaml's functions has none, so a run
# without them can never pass. DYNAMODB_ENDPOINT and MOTO_ENDPOINT are used when set;
# otherwise the tests start DynamoDB Local (.tools/dynamodb) and moto_server (.tools/venv).
# Logs of the emulator and of every function: target/lambda-events/<run>/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
log() { echo "lambda-events: $*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ ! -x .tools/venv/bin/cargo-lambda || ! -x .tools/venv/bin/moto_server ]]; then
    bash infra/scripts/install-tools.sh
fi
export PATH="$ROOT/.tools/venv/bin:$ROOT/.tools/cargo/bin:$PATH"

dir="${LAMBDA_BOOTSTRAPS:-target/lambda}"
[[ "$dir" == /* ]] || dir="$ROOT/$dir"
export LAMBDA_BOOTSTRAPS="$dir"
mapfile -t binaries < <(sed -n 's/^ *Binary: *\([A-Za-z0-9_-]*\).*/\1/p' template.yaml)
((${#binaries[@]})) || die "no function Binary found in template.yaml"
missing=()
for b in "${binaries[@]}"; do
    [[ -f "$dir/$b/bootstrap" || -f "$dir/$b" ]] || missing+=("$b")
done
if ((${#missing[@]})); then
    die "no bootstrap in $dir for: ${missing[*]} (build them: bash infra/scripts/build-lambdas.sh)"
fi
log "${#binaries[@]} bootstraps in $dir: ${binaries[*]}"

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN

started=$(date +%s)
# --run-ignored all: the event tests are #[ignore]d in the plain workspace run (they need the
# bootstraps); here they run, together with the unit tests of the same binary.
# --workspace --all-features: the very build infra/test.sh made (no second compile of the crates).
cargo nextest run --workspace --all-features --test lambda --run-ignored all --no-fail-fast "$@" </dev/null
log "passed in $(($(date +%s) - started)) s"
