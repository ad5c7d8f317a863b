#!/usr/bin/env bash
# Side-by-side benchmarks: Stateroom, the raw hyper-tungstenite floor, a Node
# `ws` server and a Colyseus room, all doing the same fair scenario, driven by
# the same load generator, and written up in docs/benchmarks.md.
#
#   bench/run.sh           # the full run (~10 minutes), writes docs/benchmarks.md
#   bench/run.sh --quick   # a short run (CI), writes target/bench/benchmarks.md
#
# Servers run on core 0, the load generator on core 1 (taskset), one server
# worker thread (Node is single-threaded); Stateroom with two worker threads
# and no pinning is a footnote.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

QUICK=""
[ "${1:-}" = "--quick" ] && QUICK=1
OUT="target/bench/results"
REPORT="docs/benchmarks.md"
if [ -n "$QUICK" ]; then
    REPORT="target/bench/benchmarks.md"
    FANOUT_RATES="5 50"
    ECHO_RATES="20"
    DURATION=1
    IDLE_ROOMS=10
    PERSIST_RATES="5"
else
    FANOUT_RATES="2 5 10 20 50 100 150 200 250 300"
    ECHO_RATES="10 50 100 200 400 800"
    DURATION=5
    IDLE_ROOMS=100
    PERSIST_RATES="2 5 20 50"
fi
rm -rf "$OUT" && mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)"

echo "bench: building (release) and installing the Node peers"
cargo build --release --locked -q -p stateroom-bench
(cd bench/node && npm ci --no-audit --no-fund --loglevel=error > /dev/null)

SERVER_CPU="taskset -c 0"
LOAD_CPU="taskset -c 1"
if ! taskset -c 1 true 2>/dev/null; then SERVER_CPU=""; LOAD_CPU=""; fi
LOAD=./target/release/stateroom-load
PORT=9700
PID=""

# start NAME MODE: starts a server and waits for its port.
start() {
    PORT=$((PORT + 1))
    while listening "$PORT"; do PORT=$((PORT + 1)); done
    local pin="$SERVER_CPU"
    # The two-worker footnote runs unpinned, on both cores.
    [ "$1" = stateroom-2 ] && pin=""
    local cmd
    case "$1" in
        stateroom)   cmd=(./target/release/bench-server --kind stateroom --mode "$2" --port "$PORT" --worker-threads 1) ;;
        stateroom-2) cmd=(./target/release/bench-server --kind stateroom --mode "$2" --port "$PORT" --worker-threads 2) ;;
        chat)        cmd=(./target/release/bench-server --kind chat --port "$PORT" --worker-threads 1) ;;
        persisted-chat) rm -rf "$OUT/data"; cmd=(./target/release/bench-server --kind persisted-chat --port "$PORT" --worker-threads 1 --data-dir "$OUT/data") ;;
        stateroom-nometrics) cmd=(./target/release/bench-server --kind stateroom --mode "$2" --port "$PORT" --worker-threads 1 --metrics false) ;;
        raw)         cmd=(./target/release/bench-server --kind raw --mode "$2" --port "$PORT" --worker-threads 1) ;;
        ws)          cmd=(env PORT="$PORT" MODE="$2" node bench/node/ws-server.js) ;;
        colyseus)    cmd=(env PORT="$PORT" MODE="$2" node bench/node/colyseus-server.js) ;;
    esac
    # taskset and env exec the server, so $! is the server's own pid.
    # shellcheck disable=SC2086
    $pin "${cmd[@]}" >> "$OUT/servers.log" 2>&1 &
    PID=$!
    wait_listening "$PID" "$PORT" && return
    echo "bench: $1 did not start on port $PORT (see $OUT/servers.log)" >&2
    exit 1
}
stop() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
trap stop EXIT

protocol() { [ "$1" = colyseus ] && echo colyseus || echo path; }

# A run passes its service-level objective when nothing is lost or broken and
# p99 stays within 100 ms; a ramp stops at its first failing step.
passes() {
    python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r['lost']==0 and r['errors']==0 and r['latency']['p99_us']<=100000 else 1)" "$1"
}

# once NAME SCENARIO ROOMS CLIENTS RATE FILE: one run against a fresh server.
once() {
    local name=$1 scenario=$2 rooms=$3 clients=$4 rate=$5 file=$6
    local mode=fanout; [ "$scenario" = echo ] && mode=echo
    start "$name" "$mode"
    $LOAD_CPU $LOAD --target "127.0.0.1:$PORT" --protocol "$(protocol "$name")" --scenario "$scenario" \
        --rooms "$rooms" --clients "$clients" --rate "$rate" --duration "$DURATION" --drain 5 \
        --server-pid "$PID" --quiet --json "$file" > /dev/null || true
    stop
}

# ramp NAME SCENARIO ROOMS CLIENTS RATES...: steps up the rate until a step
# fails twice (a failing step is retried once: these machines are shared, and
# one noisy sample should not end a server's ramp; every server gets the same).
ramp() {
    local name=$1 scenario=$2 rooms=$3 clients=$4; shift 4
    for rate in "$@"; do
        local file="$OUT/$name-$scenario-$rate.json"
        once "$name" "$scenario" "$rooms" "$clients" "$rate" "$file"
        if [ -s "$file" ] && ! passes "$file"; then
            once "$name" "$scenario" "$rooms" "$clients" "$rate" "$file.retry"
            if [ -s "$file.retry" ] && passes "$file.retry"; then
                mv "$file.retry" "$file"
            else
                rm -f "$file.retry"
            fi
        fi
        if [ ! -s "$file" ]; then echo "bench: $name $scenario $rate: no report"; break; fi
        python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"bench: {sys.argv[2]:<12} {sys.argv[3]:<6} rate {sys.argv[4]:>4}: {r['deliveries_per_sec']:>10.0f} deliveries/s, p99 {r['latency']['p99_us']/1000:8.1f} ms, lost {r['lost']}, errors {r['errors']}\")" "$file" "$name" "$scenario" "$rate"
        passes "$file" || break
    done
}

for server in stateroom raw ws colyseus; do
    # shellcheck disable=SC2086
    ramp "$server" fanout 1 100 $FANOUT_RATES
    # shellcheck disable=SC2086
    ramp "$server" echo 10 100 $ECHO_RATES
    start "$server" fanout
    $LOAD_CPU $LOAD --target "127.0.0.1:$PORT" --protocol "$(protocol "$server")" --scenario idle \
        --rooms "$IDLE_ROOMS" --clients 100 --duration 2 --server-pid "$PID" --quiet \
        --json "$OUT/$server-idle-0.json" > /dev/null || true
    stop
    echo "bench: $server idle done"
done
# The cost of metrics: the same fan-out ramp with them off.
# shellcheck disable=SC2086
ramp stateroom-nometrics fanout 1 100 $FANOUT_RATES
# shellcheck disable=SC2086
ramp stateroom-nometrics echo 10 100 $ECHO_RATES
# Persistence: a chat of 100 rooms × 10 clients, in memory and persisted
# (gated, embedded SQLite), side by side; the persisted server's metrics give
# the saves per commit (one fsync each).
for rate in $PERSIST_RATES; do
    for name in chat persisted-chat; do
        file="$OUT/$name-rooms-$rate.json"
        start "$name" fanout
        $LOAD_CPU $LOAD --target "127.0.0.1:$PORT" --scenario fanout --rooms 100 --clients 10 \
            --rate "$rate" --duration "$DURATION" --drain 5 --server-pid "$PID" --quiet --json "$file" > /dev/null || true
        python3 -c "import sys,urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())" \
            "http://127.0.0.1:$PORT/metrics" > "$OUT/$name-rooms-$rate.metrics" || true
        stop
        python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"bench: {sys.argv[2]:<14} 100x10 rate {sys.argv[3]:>4}: {r['deliveries_per_sec']:>10.0f} deliveries/s, p50 {r['latency']['p50_us']/1000:6.1f} ms, p99 {r['latency']['p99_us']/1000:6.1f} ms, lost {r['lost']}\")" "$file" "$name" "$rate"
    done
done
# Footnote: Stateroom with two worker threads, unpinned (sharing both cores
# with the generator).
LOAD_CPU_PINNED="$LOAD_CPU"
LOAD_CPU=""
# shellcheck disable=SC2086
ramp stateroom-2 fanout 1 100 $FANOUT_RATES
LOAD_CPU="$LOAD_CPU_PINNED"

COMMAND="bench/run.sh${QUICK:+ --quick}"
python3 bench/report.py "$OUT" "$REPORT" "$COMMAND"
echo "bench: wrote $REPORT"
