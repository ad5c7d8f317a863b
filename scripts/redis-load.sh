#!/usr/bin/env bash
# What one cluster node holding many rooms costs Redis: commands per second,
# by command, with the default leases (10 s) and node heartbeats, and with
# the lease that alone would fail over as fast (2.5 s; docs/scale-out.md).
# Not part of CI (about a minute and a half).
#
#   scripts/redis-load.sh [ROOMS]     # default 10000
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ROOMS=${1:-10000}
SAMPLE=20
DIR="$PWD/target/redis-load"
rm -rf "$DIR" && mkdir -p "$DIR"
cargo build --release --locked -q -p example-ledger
(cd clients/js && [ -d node_modules/ws ] || npm ci --no-audit --no-fund --loglevel=error)

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
redis-server --port 0 --unixsocket "$DIR/redis.sock" --save "" --appendonly no \
    --dir "$DIR" > "$DIR/redis.log" 2>&1 &
pids+=("$!")
for _ in $(seq 100); do [ -S "$DIR/redis.sock" ] && break; sleep 0.05; done
cli() { redis-cli -s "$DIR/redis.sock" "$@"; }

echo "| lease | rooms | scripts run/s (EVALSHA) | lease renewals/s (PEXPIRE) | node heartbeats/s (SET) | directory writes/s (HSET) |"
echo "|---|---:|---:|---:|---:|---:|"
# calls NAME: the calls of command NAME in the sample (inside scripts too).
calls() {
    local n
    n=$(echo "$stats" | sed -n "s/^cmdstat_$1:calls=\([0-9]*\).*/\1/p")
    echo "${n:-0}"
}
for lease in 10s 2500ms; do
    cli FLUSHALL > /dev/null
    ./target/release/example-ledger --port 9301 --cluster "redis+unix://$DIR/redis.sock" \
        --node-id load --internal-addr 127.0.0.1:9302 --lease-ttl "$lease" \
        --room-grace 600s --accept-redis-durability --data-dir "$DIR/node" \
        > "$DIR/node-$lease.log" 2>&1 &
    node_pid=$!
    pids+=("$node_pid")
    wait_listening "$node_pid" 9301 || { echo "redis-load: the node did not start" >&2; exit 1; }
    node scripts/open-rooms.mjs ws://127.0.0.1:9301 "$ROOMS" > /dev/null
    sleep 2
    cli CONFIG RESETSTAT > /dev/null
    sleep "$SAMPLE"
    stats=$(cli INFO commandstats)
    per_second() { echo $(( $(calls "$1") / SAMPLE )); }
    printf '| %s | %s | %s | %s | %s | %s |\n' "$lease" "$ROOMS" \
        "$(per_second evalsha)" "$(per_second pexpire)" "$(per_second set)" "$(per_second hset)"
    kill "$node_pid"; wait "$node_pid" 2>/dev/null || true
done
