#!/usr/bin/env bash
# 10,000 concurrent WebSocket connections over 100 rooms, with traffic, against
# the Stateroom benchmark server (release build): every message must arrive,
# no connection may fail. Prints the server's RSS per connection.
#
#   scripts/many-connections.sh           # 10,000 connections, 100 rooms
#   scripts/many-connections.sh --quick   # 1,000 connections, 10 rooms (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ROOMS=100
CLIENTS=100
DURATION=10
if [ "${1:-}" = "--quick" ]; then
    ROOMS=10
    DURATION=4
fi
# Each side needs a descriptor per connection (the hard limit here is 20,000).
ulimit -n "$(ulimit -Hn)"

cargo build --release --locked -q -p stateroom-bench
PORT="${PORT:-9611}"
OUT="${OUT:-target/many-connections}"
mkdir -p "$OUT"
./target/release/bench-server --kind stateroom --mode fanout --port "$PORT" > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
if ! wait_listening "$SERVER" "$PORT"; then
    echo "many-connections: the benchmark server did not start on port $PORT" >&2
    exit 1
fi

TOTAL=$((ROOMS * CLIENTS))
echo "many-connections: $TOTAL connections over $ROOMS rooms, 1 message per client every 20 s, ${DURATION}s"
# Idle first (RSS per connection), then the same number again with traffic.
./target/release/stateroom-load --target "127.0.0.1:$PORT" --scenario idle \
    --rooms "$ROOMS" --clients "$CLIENTS" --duration 2 --server-pid "$SERVER" \
    --room-prefix idle- --quiet --json "$OUT/idle.json"
./target/release/stateroom-load --target "127.0.0.1:$PORT" --scenario fanout \
    --rooms "$ROOMS" --clients "$CLIENTS" --rate 0.05 --duration "$DURATION" --drain 10 \
    --threads 2 --server-pid "$SERVER" --room-prefix busy- --quiet --json "$OUT/fanout.json"

python3 - "$OUT/idle.json" "$OUT/fanout.json" "$TOTAL" <<'PY'
import json, sys
idle, busy, total = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
problems = []
for name, r in (("idle", idle), ("fanout", busy)):
    if r["connected"] != total or r["connect_failures"] or r["errors"]:
        problems.append(f"{name}: {r['connected']}/{total} connected, {r['connect_failures']} failed, {r['errors']} errors")
if busy["lost"] or busy["out_of_order"] or busy["delivered"] == 0:
    problems.append(f"fanout: {busy['delivered']}/{busy['expected']} delivered, {busy['out_of_order']} out of order")
per = idle["server"]["rss_per_connection_bytes"]
print(f"many-connections: idle RSS per connection {per / 1024:.1f} KiB; "
      f"connect rate {idle['connects_per_sec']:.0f}/s; "
      f"fanout delivered {busy['delivered']}/{busy['expected']}, p99 {busy['latency']['p99_us'] / 1000:.1f} ms")
if problems:
    print("many-connections: FAILED: " + "; ".join(problems))
    sys.exit(1)
print("many-connections: 2 passed, 0 failed")
PY
