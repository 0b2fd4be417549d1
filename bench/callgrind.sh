#!/usr/bin/env bash
# Instructions per request of a whole request through a real axum server on loopback, counted
# by valgrind's callgrind, so that the figures do not depend on what else the machine is doing.
#
#   bench/callgrind.sh                      # the four paths, once
#   RUNS=2 bench/callgrind.sh               # twice over, with the spread between the runs
#   K1=200 K2=1200 WARMUP=100 bench/callgrind.sh
#   PATHS="/bare /guarded" bench/callgrind.sh
#   WORKTREE=/work/main /path/to/callgrind.sh   # measure another checkout of the workspace
#
# What it does: builds `callgrind-server` and `callgrind-client` (bench/src/bin/) with
# `cargo build --profile bench` (release, plus line tables for callgrind_annotate; cargo puts
# them in `$target/release`, and CARGO_TARGET_DIR is honoured). Then for every path, twice:
#
#   valgrind --tool=callgrind --callgrind-out-file=OUT/<path>-<K>.out \
#       callgrind-server --port PORT --requests $((WARMUP + K))
#   callgrind-client --addr 127.0.0.1:PORT --path <path> --requests $((WARMUP + K)) --pause-us 1000
#
# once with K = K1 and once with K = K2, the same WARMUP requests first in both. The server
# answers that many requests on one keep-alive connection, then stops and callgrind writes the
# total instruction count (`totals:` of the output file). Instructions per request are
# (Ir(K2) - Ir(K1)) / (K2 - K1): start-up, warm-up and shutdown cancel out. The table gives
# each path with its difference against `/passthrough` (a route layer that only forwards) and
# against `/bare` (no layer); `/guarded` minus `/passthrough` is what the guard costs over what
# axum charges for any route layer.
#
# The client pauses PAUSE_US (default 1000) after each response, so that the server has gone
# back to waiting on its socket before every request rather than sometimes finding the next
# one there already, which would take a different and cheaper path through tokio and hyper.
# On a quiet host PAUSE_US=0 gives the same counts; the pause keeps them so on a busy one.
#
# Reading the figures: the paths are not the same length, and parsing the request line and the
# URI and matching the route cost about 15 instructions a byte of path (callgrind_annotate:
# `PathAndQuery::from_shared`, `from_utf8`, `matchit`), so `/passthrough` (12 bytes) pays about
# 100 more than `/bare` (5) for its name, `/guarded` (8) about 60 less than `/passthrough`,
# and `/guarded-layered` (16) about 170 more than `/guarded`, which is all of the difference
# between those two (axum 0.8 puts a `Router::layer` and a `route_layer` on a route the same
# way). Comparing one path across two builds is unaffected. The first couple of hundred
# requests are cheaper than the rest, while glibc's heap settles (`malloc_consolidate`): keep
# WARMUP + K1 at 300 or more, and the figure is then the same for K = 200..1200 as 1200..2200.
#
# Environment: WORKTREE (the workspace to build and measure; default: the one this script is
# in), PATHS, K1 (200), K2 (1200), WARMUP (100), PAUSE_US (1000), RUNS (1), PORT (3931; must be
# free), OUT (where the callgrind files go; default a new directory under /tmp), RUN_SECS (300:
# the server's lifetime, and the bound on each run), BUILD_SECS (3600: the bound on the build).
#
# Every run is bounded: the server stops by itself after RUN_SECS, `timeout` kills valgrind a
# minute later and the client as well, and the build is bounded by BUILD_SECS.
set -euo pipefail

root="${WORKTREE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
cd "$root"

read -r -a paths <<<"${PATHS:-/bare /passthrough /guarded /guarded-layered}"
k1="${K1:-200}"
k2="${K2:-1200}"
warmup="${WARMUP:-100}"
pause="${PAUSE_US:-1000}"
runs="${RUNS:-1}"
port="${PORT:-3931}"
run_secs="${RUN_SECS:-300}"
build_secs="${BUILD_SECS:-3600}"

for number in "$k1" "$k2" "$warmup" "$pause" "$runs" "$port" "$run_secs" "$build_secs"; do
    [[ "$number" =~ ^[0-9]+$ ]] || { echo "callgrind.sh: \`$number\` is not a number" >&2; exit 2; }
done
if (( k2 <= k1 || runs < 1 || run_secs < 1 )); then
    echo "callgrind.sh: K2 must be above K1, RUNS and RUN_SECS at least 1" >&2
    exit 2
fi
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 2; }
# Something already listening there would get the requests (and be measured instead).
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "callgrind.sh: 127.0.0.1:$port is in use; pick another PORT" >&2
    exit 2
fi

timeout "$build_secs" cargo build --profile bench -p authz-bench \
    --bin callgrind-server --bin callgrind-client
target="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
bin="$target/release"
out="${OUT:-$(mktemp -d /tmp/authz-callgrind.XXXXXX)}"
mkdir -p "$out"

server=
trap '[[ -n "$server" ]] && kill "$server" 2>/dev/null; wait 2>/dev/null || true' EXIT

# Sets `total` to the instructions of the server answering WARMUP + $2 requests of $1, whose
# callgrind file is $3. Not in a subshell, so that the trap above knows the server's pid.
measure() {
    local path="$1" requests=$((warmup + $2)) file="$3"
    timeout -k 10 $((run_secs + 60)) valgrind --tool=callgrind --callgrind-out-file="$file" \
        "$bin/callgrind-server" --port "$port" --requests "$requests" \
        --lifetime-secs "$run_secs" >"$file.log" 2>&1 &
    server=$!
    if ! timeout $((run_secs + 60)) "$bin/callgrind-client" --addr "127.0.0.1:$port" \
        --path "$path" --requests "$requests" --pause-us "$pause" 2>"$file.client.log"; then
        echo "callgrind.sh: the client failed on $path:" >&2
        cat "$file.client.log" >&2
        return 1
    fi
    if ! wait "$server"; then
        server=
        echo "callgrind.sh: the server failed on $path (see $file.log):" >&2
        tail -n 5 "$file.log" >&2
        return 1
    fi
    server=
    total="$(awk '$1 == "totals:" { print $2; found = 1; exit } END { if (!found) exit 1 }' "$file")" \
        || total="$(awk '$1 == "summary:" { print $2; found = 1; exit } END { if (!found) exit 1 }' "$file")" \
        || { echo "callgrind.sh: no totals in $file" >&2; return 1; }
}

# The difference of one path's figure from $1's in the same run, or `-` if $1 was not measured.
against() {
    local base="${per_request["$run $1"]:-}"
    if [[ -z "$base" ]]; then
        echo "-"
    else
        awk -v v="$value" -v b="$base" 'BEGIN { printf "%+.1f", v - b }'
    fi
}

echo "host: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPU(s); $(valgrind --version)"
echo "tree: $root ($(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ', with changes'))"
echo "requests: $warmup warm-up + K1=$k1 / K2=$k2 per path, pause ${pause} us; callgrind files in $out"

declare -A per_request
for (( run = 1; run <= runs; run++ )); do
    for path in "${paths[@]}"; do
        name="${path#/}"
        name="${name//\//_}"
        measure "$path" "$k1" "$out/run$run-${name:-root}-$k1.out"
        ir1="$total"
        measure "$path" "$k2" "$out/run$run-${name:-root}-$k2.out"
        ir2="$total"
        per_request["$run $path"]="$(awk -v a="$ir1" -v b="$ir2" -v n=$((k2 - k1)) \
            'BEGIN { printf "%.1f", (b - a) / n }')"
        printf '  run %d %-18s Ir(%d) = %d, Ir(%d) = %d\n' \
            "$run" "$path" "$((warmup + k1))" "$ir1" "$((warmup + k2))" "$ir2"
    done

    echo
    echo "run $run of $runs: instructions per request (callgrind Ir)"
    printf '| %-18s | %12s | %16s | %10s |\n' "path" "Ir/request" "vs /passthrough" "vs /bare"
    printf '| %-18s | %12s | %16s | %10s |\n' "---" "---:" "---:" "---:"
    for path in "${paths[@]}"; do
        value="${per_request["$run $path"]}"
        printf '| %-18s | %12s | %16s | %10s |\n' \
            "$path" "$value" "$(against /passthrough)" "$(against /bare)"
    done
    echo
done

if (( runs > 1 )); then
    echo "spread over $runs runs (max - min, and as a share of the mean):"
    for path in "${paths[@]}"; do
        values=()
        for (( run = 1; run <= runs; run++ )); do values+=("${per_request["$run $path"]}"); done
        printf '  %-18s %s\n' "$path" "$(printf '%s\n' "${values[@]}" | awk '
            { v[NR] = $1; sum += $1; if (NR == 1 || $1 < min) min = $1; if (NR == 1 || $1 > max) max = $1 }
            END { printf "%s  spread %.1f (%.3f%%)", min "..." max, max - min, (max - min) * 100 / (sum / NR) }')"
    done
fi
