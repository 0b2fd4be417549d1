#!/usr/bin/env bash
# A RUSTC_WRAPPER that counts rustc's instructions with valgrind's callgrind for the benchmark's
# generated crates only, so that a crate's compile cost can be compared across builds and
# hosts without timing it (instruction counts do not move with the host's load):
#
#   OUT=/tmp/cc bench/compile-cost.sh --handlers 200 --runs 1    # generates and warms up
#   touch /tmp/cc/guarded/src/lib.rs
#   CARGO_TARGET_DIR=/tmp/cc/target CARGO_INCREMENTAL=0 CG_OUT=/tmp/cg \
#       RUSTC_WRAPPER="$PWD/bench/rustc-callgrind.sh" \
#       cargo build --manifest-path /tmp/cc/guarded/Cargo.toml --lib
#   grep '^totals:' /tmp/cg/compile_cost_guarded.*.out
#
# Crates named by CRATES (a shell pattern, default `compile_cost_*`: the crates that
# bench/compile-cost.sh generates) run under callgrind, each writing
# $CG_OUT/<crate>.<pid>.out (default CG_OUT: /tmp), valgrind's own messages going to
# $CG_OUT/<crate>.log; every other crate is compiled as usual. Under callgrind rustc runs about
# fifty times slower: a crate of 200 handlers takes a few minutes.
set -euo pipefail

rustc="$1"
shift
crate=""
previous=""
for arg in "$@"; do
    [[ "$previous" == "--crate-name" ]] && crate="$arg"
    previous="$arg"
done
out="${CG_OUT:-/tmp}"
# shellcheck disable=SC2053 # CRATES is a pattern
if [[ -n "$crate" && "$crate" == ${CRATES:-compile_cost_*} ]]; then
    mkdir -p "$out"
    exec valgrind --tool=callgrind --callgrind-out-file="$out/$crate.%p.out" \
        "$rustc" "$@" 2>>"$out/$crate.log"
fi
exec "$rustc" "$@"
