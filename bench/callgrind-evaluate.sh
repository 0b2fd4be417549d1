#!/usr/bin/env bash
# Instructions per evaluation of the rules of benches/evaluate.rs on warm credentials, counted
# by callgrind, so that the figures do not depend on what else the host is doing.
#
#   bench/callgrind-evaluate.sh                 # admin, deep, deep-not-any
#   RULES=deep bench/callgrind-evaluate.sh
#   BIN=/other/target/release/callgrind-evaluate bench/callgrind-evaluate.sh
#
# Builds `callgrind-evaluate` (bench/src/bin/) with `cargo build --profile bench`, unless BIN
# names a binary (one built from another checkout, to compare), then runs it under valgrind
# twice per rule, with --count C1 and C2 (1000 and 11000). Instructions per evaluation are
# (Ir(C2) - Ir(C1)) / (C2 - C1): start-up and shutdown cancel out.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
read -r -a rules <<<"${RULES:-admin deep deep-not-any}"
c1="${C1:-1000}"
c2="${C2:-11000}"
command -v valgrind >/dev/null || { echo "callgrind-evaluate.sh: valgrind is not installed" >&2; exit 2; }
(( c2 > c1 )) || { echo "callgrind-evaluate.sh: C2 must be above C1" >&2; exit 2; }

bin="${BIN:-}"
if [[ -z "$bin" ]]; then
    cargo build --profile bench -p authz-bench --bin callgrind-evaluate
    target="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
    bin="$target/release/callgrind-evaluate"
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# Total instructions of one run of `bin --rule $1 --count $2`.
instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$out/$1-$2.out" "$bin" --rule "$1" --count "$2" \
        >/dev/null 2>&1
    sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out/$1-$2.out"
}

printf '%-14s %s\n' rule instructions/evaluation
for rule in "${rules[@]}"; do
    low="$(instructions "$rule" "$c1")"
    high="$(instructions "$rule" "$c2")"
    printf '%-14s %s\n' "$rule" "$(( (high - low) / (c2 - c1) ))"
done
