#!/usr/bin/env bash
# The cluster hop's CPU, per node: one fan-out room (1 × 100) owned by node A
# (core 0), its clients joining node B (core 1, beside the generator), which
# forwards each join to A over their link and then copies bytes both ways.
# Prints B's resident memory per idle forwarded connection, then, per rate,
# A's CPU per delivery with the clients joined to it directly and each
# node's with them joined through B, from /proc/PID/stat. Not part of CI; figures go to
# docs/benchmarks-notes.md by hand.
#
#   bench/hop.sh [RATE...]     # default: 5 20 50 (50k, 200k, 500k deliveries/s)
#   SERVER=path bench/hop.sh   # another build of bench-server (both nodes)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
RATES=("$@")
[ ${#RATES[@]} -gt 0 ] || RATES=(5 20 50)
cargo build --release --locked -q -p stateroom-bench
SERVER="${SERVER:-./target/release/bench-server}"
DIR="$PWD/target/bench/hop"
rm -rf "$DIR" && mkdir -p "$DIR"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
redis-server --port 0 --unixsocket "$DIR/redis.sock" --save "" --appendonly no --dir "$DIR" \
    > "$DIR/redis.log" 2>&1 &
pids+=("$!")
for _ in $(seq 100); do [ -S "$DIR/redis.sock" ] && break; sleep 0.05; done
port=9720
node() { # node ID CORE: starts a node, prints "PID PORT"
    port=$((port + 2)); while listening "$port" || listening $((port + 1)); do port=$((port + 2)); done
    taskset -c "$2" "$SERVER" --kind stateroom --mode fanout --port "$port" \
        --worker-threads 1 --room-grace-ms 600000 --cluster "redis+unix://$DIR/redis.sock" \
        --node-id "$1" --internal-addr "127.0.0.1:$((port + 1))" > "$DIR/$1.log" 2>&1 &
    pids+=("$!")
    wait_listening "$!" "$port"
    NODE_PID=$!
    NODE_PORT=$port
}
node a 0; A=$NODE_PID; A_PORT=$NODE_PORT
node b 1; B=$NODE_PID; B_PORT=$NODE_PORT
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
load() { taskset -c 1 ./target/release/stateroom-load --target "127.0.0.1:$1" --scenario fanout \
    --rooms 1 --clients 100 --rate "$2" --duration "$3" --drain 3 --quiet --json "$DIR/run.json" > /dev/null; }
# Memory: IDLE_ROOMS x IDLE_CLIENTS idle clients join B for rooms A owns; B's
# resident memory per forwarded connection (the relay's share of a hop).
IDLE_ROOMS="${IDLE_ROOMS:-50}" IDLE_CLIENTS="${IDLE_CLIENTS:-100}"
idle() { taskset -c 1 ./target/release/stateroom-load --target "127.0.0.1:$1" --scenario idle \
    --rooms "$IDLE_ROOMS" --clients "$2" --duration 2 --quiet --json "$DIR/idle.json" "${@:3}" > /dev/null; }
idle "$A_PORT" 1 # A takes the rooms' leases
idle "$B_PORT" "$IDLE_CLIENTS" --server-pid "$B"
python3 - "$DIR/idle.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"idle through B: {r['connected']:,} connections, B's RSS per forwarded connection "
      f"{r['server']['rss_per_connection_bytes']:,.0f} bytes")
PY

load "$A_PORT" 1 1 # A takes the room's lease
# Each rate twice: the clients joining A directly (the owner's own cost per
# delivery), then joining B (the hop: each node's cost).
echo "| rate | direct: A µs per delivery | hop: deliveries/s | hop: p99 ms | hop: A µs per delivery | hop: B µs per delivery | B / A direct | (A + B) / A direct |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for rate in "${RATES[@]}"; do
    d0=$(cpu "$A")
    load "$A_PORT" "$rate" 5
    d1=$(cpu "$A")
    cp "$DIR/run.json" "$DIR/direct.json"
    a0=$(cpu "$A"); b0=$(cpu "$B")
    load "$B_PORT" "$rate" 5
    a1=$(cpu "$A"); b1=$(cpu "$B")
    python3 - "$DIR/direct.json" "$DIR/run.json" "$rate" "$d0" "$d1" "$a0" "$a1" "$b0" "$b1" <<'PY'
import json, sys
direct, hop = (json.load(open(p)) for p in sys.argv[1:3])
d0, d1, a0, a1, b0, b1 = (float(x) for x in sys.argv[4:10])
us = lambda ticks, run: ticks / 100 / run['delivered'] * 1e6  # clock ticks
d, a, b = us(d1 - d0, direct), us(a1 - a0, hop), us(b1 - b0, hop)
print(f"| {sys.argv[3]} | {d:.2f} | {hop['deliveries_per_sec']:,.0f} | "
      f"{hop['latency']['p99_us'] / 1000:.1f} | {a:.2f} | {b:.2f} | {b / d:.2f}× | {(a + b) / d:.2f}× |")
PY
done
