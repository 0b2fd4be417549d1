#!/usr/bin/env bash
# The load test: builds bench-server and loadgen in release, starts the server on 127.0.0.1,
# runs the load generator's alternating rounds against it, and stops the server.
#
#   bench/run-load.sh [loadgen options...]
#   e.g. bench/run-load.sh --rounds 10 --secs 3 --connections 16
#
# PORT (default 3917) picks the port. With two or more CPUs and `taskset`, the server is pinned
# to CPU 0 with one worker thread and the load generator to CPU 1, so that they do not take
# turns on one core; PIN=0 turns that off (and the server then uses every core).
set -euo pipefail

cd "$(dirname "$0")/.."
port="${PORT:-3917}"

cargo build --release -p authz-bench --bin bench-server --bin loadgen
target="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
bin="$target/release"

server_pin=()
client_pin=()
server_threads=()
if [[ "${PIN:-1}" != 0 ]] && command -v taskset >/dev/null && (( $(nproc) >= 2 )); then
    server_pin=(taskset -c 0)
    client_pin=(taskset -c 1)
    server_threads=(--threads 1)
fi

# The server stops by itself after its lifetime, should this script be killed before the trap.
"${server_pin[@]}" "$bin/bench-server" --port "$port" --lifetime-secs 900 "${server_threads[@]}" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT

"${client_pin[@]}" "$bin/loadgen" --addr "127.0.0.1:$port" --server-pid "$server" "$@"
