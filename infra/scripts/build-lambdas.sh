#!/usr/bin/env bash
# Builds every Lambda of functions/ for AWS (provided.al2023, x86_64) with cargo lambda, in
# release mode, into target/lambda/<binary>/bootstrap, and prints their sizes.
#
#   bash infra/scripts/build-lambdas.sh            # all functions
#   bash infra/scripts/build-lambdas.sh auth       # just these packages
#
# cargo-lambda and zig come from .tools/venv (infra/scripts/install-tools.sh). cargo-lambda
# links with `cargo zigbuild`, which finds zig as $CARGO_ZIGBUILD_ZIG_PATH, else `zig` on
# PATH, else `python3 -m ziglang`: we point it at the ziglang wheel's `python-zig`, and put
# the venv first on PATH for the fallback. Zig links against an old glibc, so the binaries run
# on Amazon Linux 2023. Only the x86_64 Rust target is installed here: no arm64 build.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.tools/venv"
TARGET=x86_64-unknown-linux-gnu
cd "$ROOT"

log() { echo "build-lambdas: $*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ ! -x "$VENV/bin/cargo-lambda" ]]; then
    bash "$ROOT/infra/scripts/install-tools.sh"
fi
export PATH="$VENV/bin:$PATH"
if [[ -x "$VENV/bin/python-zig" ]]; then
    export CARGO_ZIGBUILD_ZIG_PATH="$VENV/bin/python-zig"
fi
rustup target list --installed 2>/dev/null | grep -qx "$TARGET" \
    || die "the Rust target $TARGET is not installed (rustup target add $TARGET)"

# The packages under functions/ and their binaries, from cargo's own view of the workspace.
mapfile -t rows < <(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, os, sys
root = os.path.realpath(sys.argv[1])
for p in json.load(sys.stdin)["packages"]:
    rel = os.path.relpath(os.path.realpath(p["manifest_path"]), root)
    if rel.startswith("functions" + os.sep):
        for t in p["targets"]:
            if "bin" in t["kind"]:
                print(p["name"], t["name"])
' "$ROOT")
((${#rows[@]})) || die "no binaries found in functions/*"

packages=()
binaries=()
for row in "${rows[@]}"; do
    read -r package binary <<<"$row"
    if (($#)) && ! printf '%s\n' "$@" | grep -qx "$package"; then
        continue
    fi
    [[ " ${packages[*]} " == *" $package "* ]] || packages+=("$package")
    binaries+=("$binary")
done
((${#packages[@]})) || die "none of '$*' is a package in functions/"

args=()
for p in "${packages[@]}"; do args+=(--package "$p"); done
log "cargo lambda build --release --target $TARGET ${args[*]}"
started=$(date +%s)
cargo lambda build --release --target "$TARGET" "${args[@]}" </dev/null
log "built in $(($(date +%s) - started)) s"

status=0
printf '\n%-20s %12s  %s\n' "function" "bytes" "bootstrap"
for binary in "${binaries[@]}"; do
    file="target/lambda/$binary/bootstrap"
    if [[ -f "$file" ]]; then
        printf '%-20s %12s  %s (%s)\n' "$binary" "$(stat -c %s "$file")" "$file" "$(du -h "$file" | cut -f1)"
    else
        printf '%-20s %12s  %s\n' "$binary" "missing" "$file"
        status=1
    fi
done
exit $status
