#!/usr/bin/env bash
# The compile-cost benchmark: what `#[require]` costs per handler in a debug build.
#
#   bench/compile-cost.sh [--handlers N] [--runs R] [--expand]
#   e.g. bench/compile-cost.sh --handlers 200 --runs 3
#
# What it measures, and why
#
#   A guard is code the macro writes beside each handler: a unit struct, its
#   `FromRequestParts` impl, the predicate's evaluation and its denial messages. All of it is
#   compiled in the user's crate, once per guarded handler, so a project with hundreds of
#   handlers pays it hundreds of times on every rebuild of that crate. This script puts a
#   figure on it: the time rustc takes to compile one small axum library crate of N handlers,
#   in three variants that differ only in the handlers' guards,
#
#     plain      N `async fn handler_i() -> &'static str`, unguarded;
#     extracted  the control: the same handlers, each taking one do-nothing extractor first (a
#                shared unit struct whose `FromRequestParts` returns `ready(Ok(Self))`);
#     guarded    the same handlers, each under `#[authz_runtime::require(...)]`, cycling over
#                four rules: `has_permission`, `any(is_user, has_permission)` with a `msg`,
#                `all(in_group, not(in_group))`, and `in_any_group` of three groups;
#
#   each with a `router()` that routes every handler under `AuthzLayer`, so that every
#   handler's `Handler` impl (and the guard's future inside it) is instantiated and
#   monomorphised, as in a real application. It prints, for `cargo build` and `cargo check`,
#   each crate's best time and the differences per handler:
#
#     (guarded - plain) / N      what `#[require]` costs a handler, all told;
#     (extracted - plain) / N    the floor: axum's own price for one more handler argument,
#                                which any guard that is a handler argument pays, written by a
#                                macro or by hand;
#     (guarded - extracted) / N  what the guard costs above that floor: the part the macro's
#                                expansion can make smaller.
#
#   Only the crate under test is rebuilt in a measured run (its `src/lib.rs` touched, all
#   dependencies fresh); the run fails if cargo compiles anything else. Incremental compilation
#   is off (CARGO_INCREMENTAL=0 unless you set it): with the source unchanged, an incremental
#   rebuild reuses nearly all of the previous one and measures the cache, not the compiler.
#   The crates are rebuilt in turn within each round (plain, extracted, guarded, plain, ...)
#   so that drift in the host's speed hits all three alike, and the best of R runs is kept.
#   Times are wall-clock time around `cargo`, so they include cargo's own start-up and
#   freshness checks (the same for all three, and gone in the differences).
#
#   The crates are generated (by compile-cost/gen.py) in a scratch directory outside the
#   repository and use only the public surface of authz-runtime: `#[authz_runtime::require]`,
#   `AuthzLayer`, `MemoryStore` and `authz_runtime::testing::TestAuthenticator`; so the same
#   script measures any checkout whose macro expansion differs.
#
# Environment:
#   OUT            the scratch directory (default ${TMPDIR:-/tmp}/authz-compile-cost). It is
#                  kept, with one shared CARGO_TARGET_DIR (OUT/target) so that dependencies are
#                  built once; a rerun starts from there. Delete it to start afresh.
#   AUTHZ_RUNTIME  the authz-runtime crate to measure (default: this checkout's). The crates use
#                  the Cargo.lock of the workspace around it (or else this checkout's), so that
#                  versions match what that checkout tests with.
#   QUIET_WAIT     seconds to wait, before each measured run, for other rustc processes on the
#                  host to finish (default 120; 0 to not wait). A run that starts or ends while
#                  another rustc runs is counted as busy in the report.
#   CARGO_INCREMENTAL, CARGO_BUILD_JOBS  passed to cargo (incremental defaults to 0, see above).
#
# --expand also prints how many lines of expanded code each handler adds, from rustc's
# `-Zunpretty=expanded`. That flag is unstable: on a stable toolchain it is unlocked with
# RUSTC_BOOTSTRAP=1, which is a hack, not a stable interface. As RUSTC_BOOTSTRAP changes some
# dependencies' fingerprints, this uses a target directory of its own (OUT/target-expand; one
# `cargo check` of the dependencies the first time).
set -euo pipefail

usage() {
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

die() {
    echo "compile-cost.sh: $*" >&2
    exit 1
}

handlers=200
runs=3
expand=0
while (($#)); do
    case "$1" in
        --handlers) handlers="${2:-}"; shift 2 || usage 2 ;;
        --handlers=*) handlers="${1#*=}"; shift ;;
        --runs) runs="${2:-}"; shift 2 || usage 2 ;;
        --runs=*) runs="${1#*=}"; shift ;;
        --expand) expand=1; shift ;;
        -h | --help) usage ;;
        *) echo "compile-cost.sh: unknown argument: $1" >&2; usage 2 ;;
    esac
done
[[ "$handlers" =~ ^[1-9][0-9]*$ ]] || die "--handlers takes a positive integer, not '$handlers'"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs takes a positive integer, not '$runs'"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
runtime="$(cd "${AUTHZ_RUNTIME:-$repo/authz-runtime}" 2>/dev/null && pwd)" ||
    die "AUTHZ_RUNTIME: no such directory: ${AUTHZ_RUNTIME:-$repo/authz-runtime}"
[[ -f "$runtime/Cargo.toml" ]] || die "not a crate (no Cargo.toml): $runtime"
lock="$repo/Cargo.lock"
[[ -f "$runtime/../Cargo.lock" ]] && lock="$(cd "$runtime/.." && pwd)/Cargo.lock"

out="${OUT:-${TMPDIR:-/tmp}/authz-compile-cost}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
case "$out/" in
    "$repo"/* | "$(dirname "$runtime")"/*) die "OUT must be outside the repository: $out" ;;
esac

export CARGO_TARGET_DIR="$out/target"
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
quiet_wait="${QUIET_WAIT:-120}"
kinds=(plain extracted guarded)
log="$out/cargo.log"

python3 "$here/compile-cost/gen.py" "$out" "$handlers" "$runtime" "$lock"

# cargo SUBCOMMAND KIND [args...], its output in $log; fails with the log shown.
run_cargo() {
    local sub="$1" kind="$2"
    shift 2
    if ! cargo "$sub" --manifest-path "$out/$kind/Cargo.toml" --lib "$@" >"$log" 2>&1; then
        cat "$log" >&2
        die "cargo $sub failed for $kind (log: $log)"
    fi
}

others_running() {
    pgrep -x rustc >/dev/null 2>&1
}

# Waits up to QUIET_WAIT seconds for other rustc processes to finish.
wait_quiet() {
    local waited=0
    while others_running && ((waited < quiet_wait)); do
        ((waited == 0)) && echo "  (waiting up to ${quiet_wait}s for another rustc on the host)" >&2
        sleep 2
        waited=$((waited + 2))
    done
}

echo "== warm-up: dependencies and each crate, build and check (target: $CARGO_TARGET_DIR)" >&2
for kind in "${kinds[@]}"; do
    run_cargo build "$kind"
    run_cargo check "$kind"
done

declare -A best
declare -A all_times
busy=0
# measure SUBCOMMAND KIND: touches the crate, rebuilds it, and keeps the best time.
measure() {
    local sub="$1" kind="$2" t0 t1 secs compiled
    local was_busy=0
    wait_quiet
    others_running && was_busy=1
    touch "$out/$kind/src/lib.rs"
    t0="$(date +%s.%N)"
    run_cargo "$sub" "$kind"
    t1="$(date +%s.%N)"
    others_running && was_busy=1
    busy=$((busy + was_busy))
    # Exactly the crate under test must have been compiled, and nothing else.
    compiled="$(grep -E '^ *(Compiling|Checking) ' "$log" | awk '{print $2}' | tr '\n' ' ')"
    [[ "$compiled" == "compile-cost-$kind " ]] ||
        die "cargo $sub of $kind compiled '$compiled', expected only compile-cost-$kind (log: $log)"
    secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
    all_times[$sub.$kind]+="$secs "
    if [[ -z "${best[$sub.$kind]:-}" ]] || awk -v a="$secs" -v b="${best[$sub.$kind]}" 'BEGIN { exit !(a < b) }'; then
        best[$sub.$kind]="$secs"
    fi
    printf '  %-5s %-9s %7.3f s\n' "$sub" "$kind" "$secs" >&2
}

for ((round = 1; round <= runs; round++)); do
    echo "== round $round of $runs" >&2
    for sub in build check; do
        for kind in "${kinds[@]}"; do
            measure "$sub" "$kind"
        done
    done
done

# Lines of expanded code per crate (--expand).
declare -A lines
if ((expand)); then
    echo "== expanding (RUSTC_BOOTSTRAP=1 -Zunpretty=expanded, target: $out/target-expand)" >&2
    for kind in "${kinds[@]}"; do
        if ! CARGO_TARGET_DIR="$out/target-expand" RUSTC_BOOTSTRAP=1 cargo rustc \
            --manifest-path "$out/$kind/Cargo.toml" --lib --profile=check -- -Zunpretty=expanded \
            >"$out/$kind.expanded.rs" 2>"$log"; then
            cat "$log" >&2
            die "expanding $kind failed (log: $log)"
        fi
        lines[$kind]="$(wc -l <"$out/$kind.expanded.rs")"
    done
fi

# The report (stdout).
per() { # per A B: (A - B) / N, in ms
    awk -v a="$1" -v b="$2" -v n="$handlers" 'BEGIN { printf "%.1f", (a - b) * 1000 / n }'
}
model="$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1)"
[[ -n "$model" ]] || model="$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n1)"
rev="$(git -C "$runtime" rev-parse --short HEAD 2>/dev/null || echo '?')"
if [[ "$rev" != '?' ]] && [[ -n "$(git -C "$runtime" status --porcelain -- . ../authz-macros 2>/dev/null)" ]]; then
    rev="$rev, with uncommitted changes"
fi

echo
echo "compile cost of #[require], debug build (dev profile, CARGO_INCREMENTAL=$CARGO_INCREMENTAL)"
echo "host:          $model ($(nproc) CPUs), load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rustc:         $(rustc --version)"
echo "authz-runtime: $runtime ($rev)"
echo "N = $handlers handlers per crate, R = $runs runs (best of R; alternating crates)"
echo
printf '%-6s %10s %10s %10s   %14s %14s %14s\n' \
    "" "plain" "extracted" "guarded" "guarded-plain" "extr.-plain" "guarded-extr."
printf '%-6s %10s %10s %10s   %14s %14s %14s\n' \
    "" "(s)" "(s)" "(s)" "(ms/handler)" "(ms/handler)" "(ms/handler)"
for sub in build check; do
    p="${best[$sub.plain]}" e="${best[$sub.extracted]}" g="${best[$sub.guarded]}"
    printf '%-6s %10.3f %10.3f %10.3f   %14s %14s %14s\n' \
        "$sub" "$p" "$e" "$g" "$(per "$g" "$p")" "$(per "$e" "$p")" "$(per "$g" "$e")"
done
echo
echo "every run (s):"
for sub in build check; do
    for kind in "${kinds[@]}"; do
        printf '  %-5s %-9s %s\n' "$sub" "$kind" "${all_times[$sub.$kind]% }"
    done
done
if ((busy)); then
    echo "note: another rustc was running at the start or end of $busy of the $((6 * runs)) measured runs;"
    echo "      the best of R may still be clean, but compare with a quiet rerun"
fi
if ((expand)); then
    echo
    printf 'expanded lines: plain %s, extracted %s, guarded %s; per handler: guarded-plain %s, extracted-plain %s, guarded-extracted %s\n' \
        "${lines[plain]}" "${lines[extracted]}" "${lines[guarded]}" \
        "$(awk -v a="${lines[guarded]}" -v b="${lines[plain]}" -v n="$handlers" 'BEGIN { printf "%.1f", (a - b) / n }')" \
        "$(awk -v a="${lines[extracted]}" -v b="${lines[plain]}" -v n="$handlers" 'BEGIN { printf "%.1f", (a - b) / n }')" \
        "$(awk -v a="${lines[guarded]}" -v b="${lines[extracted]}" -v n="$handlers" 'BEGIN { printf "%.1f", (a - b) / n }')"
fi
echo "scratch directory (kept for reruns): $out"
