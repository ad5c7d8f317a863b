#!/usr/bin/env bash
# Three ledger nodes on one Redis, behind HAProxy, on loopback: a cluster to
# try by hand (docs/scale-out.md). Not part of CI.
#
#   scripts/cluster.sh          # then: websocat ws://127.0.0.1:8080/ws/books
#
# Redis (AOF, appendfsync always) listens on a unix socket in
# target/cluster/; nodes n1..n3 on 127.0.0.1:9001..9003 (internal ports
# 9101..9103); HAProxy on 127.0.0.1:8080 with the config of
# docs/scale-out.md. Try `kill -9` on a node (see target/cluster/pids) and
# watch its rooms come back on another. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

for tool in redis-server haproxy; do
    command -v "$tool" > /dev/null || { echo "cluster: $tool is needed (apt-get install redis-server haproxy)" >&2; exit 1; }
done
DIR=target/cluster
rm -rf "$DIR" && mkdir -p "$DIR"
cargo build --release --locked -q -p example-ledger

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

redis-server --port 0 --unixsocket "$DIR/redis.sock" --save "" --appendonly yes \
    --appendfsync always --dir "$DIR" > "$DIR/redis.log" 2>&1 &
pids+=("$!")
for _ in $(seq 100); do [ -S "$DIR/redis.sock" ] && break; sleep 0.05; done

for n in 1 2 3; do
    ./target/release/example-ledger --port "900$n" --cluster "redis+unix://$PWD/$DIR/redis.sock" \
        --node-id "n$n" --internal-addr "127.0.0.1:910$n" --data-dir "$DIR/n$n" \
        > "$DIR/n$n.log" 2>&1 &
    pids+=("$!")
    echo "n$n $!" >> "$DIR/pids"
    wait_listening "$!" "900$n" || { echo "cluster: n$n did not start (see $DIR/n$n.log)" >&2; exit 1; }
done

# The documented HAProxy config, as it is.
sed -n '/^```haproxy$/,/^```$/p' docs/scale-out.md | sed '1d;$d' > "$DIR/haproxy.cfg"
haproxy -f "$DIR/haproxy.cfg" -db > "$DIR/haproxy.log" 2>&1 &
pids+=("$!")
wait_listening "$!" 8080 || { echo "cluster: haproxy did not start (see $DIR/haproxy.log)" >&2; exit 1; }

echo "cluster: HAProxy on ws://127.0.0.1:8080/ws/{room}; nodes on 9001..9003 (pids in $DIR/pids)"
echo "cluster: leases: redis-cli -s $DIR/redis.sock --scan --pattern 'stateroom:lease:*'"
echo "cluster: Ctrl-C stops everything"
wait
