#!/usr/bin/env bash
# Syscalls per delivery on a many-rooms shape (200 rooms × 10 clients unless
# ROOMS and CLIENTS say otherwise),
# Stateroom against Bun, side by side: what `perf stat` counts of the
# server's sendto, recvfrom and epoll waits over 3 s of a run, divided by
# the deliveries of those 3 s, with the run's p50/p99 and server CPU per
# million deliveries. Needs `perf` (Debian's linux-perf) and root or
# perf_event_paranoid <= 1. Not part of CI; figures go to
# docs/benchmarks-notes.md by hand. Writes count every write call (`sendto`,
# `write`, `writev`): Stateroom writes a batch with one `writev`.
#
#   bench/syscalls.sh [RATE...]      # default: 3 10 20 (60k, 200k, 400k/s)
#   ROOMS=1000 CLIENTS=4 bench/syscalls.sh 6 12   # another shape
#   BASE_SERVER=path/to/bench-server bench/syscalls.sh   # and another build
#                                                         # of Stateroom, alongside
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
RATES=("$@")
ROOMS=${ROOMS:-200}
CLIENTS=${CLIENTS:-10}
[ ${#RATES[@]} -gt 0 ] || RATES=(3 10 20)
cargo build --release --locked -q -p stateroom-bench
(cd bench/node && npm ci --no-audit --no-fund --loglevel=error > /dev/null)
OUT=target/bench/syscalls
mkdir -p "$OUT"
PORT=9850
SERVERS=(stateroom bun)
[ -z "${BASE_SERVER:-}" ] || SERVERS=(base stateroom bun)
echo "| server | rate | deliveries/s | writes per delivery | frames per write | recvfrom per message in | epoll waits/s | p50 ms | p99 ms | server CPU s/M |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for server in "${SERVERS[@]}"; do
    for rate in "${RATES[@]}"; do
        PORT=$((PORT + 1))
        while listening "$PORT"; do PORT=$((PORT + 1)); done
        case $server in
            stateroom|base)
                binary=./target/release/bench-server
                [ "$server" = stateroom ] || binary="$BASE_SERVER"
                taskset -c 0 "$binary" --kind stateroom --mode fanout \
                    --port "$PORT" --worker-threads 1 > "$OUT/server.log" 2>&1 & ;;
            bun) env PORT="$PORT" MODE=fanout taskset -c 0 bench/node/node_modules/.bin/bun \
                bench/node/bun-server.js > "$OUT/server.log" 2>&1 & ;;
        esac
        pid=$!
        wait_listening "$pid" "$PORT"
        taskset -c 1 ./target/release/stateroom-load --target "127.0.0.1:$PORT" --protocol path \
            --scenario fanout --rooms "$ROOMS" --clients "$CLIENTS" --rate "$rate" --duration 8 --drain 3 \
            --server-pid "$pid" --quiet --json "$OUT/run.json" > /dev/null &
        load=$!
        sleep 4
        perf stat -x, -e 'syscalls:sys_enter_sendto,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_recvfrom,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_epoll_pwait2' \
            -p "$pid" -- sleep 3 2> "$OUT/perf.csv"
        wait "$load" || true
        kill "$pid"; wait "$pid" 2>/dev/null || true
        python3 - "$OUT/perf.csv" "$OUT/run.json" "$server" "$rate" "$ROOMS" "$CLIENTS" <<'PY'
import json, sys
counts = {}
for line in open(sys.argv[1]):
    parts = line.strip().split(',')
    if len(parts) > 2 and parts[0].isdigit():
        counts[parts[2].split(':')[-1]] = int(parts[0])
run = json.load(open(sys.argv[2]))
rate = int(sys.argv[4])
rooms, clients = int(sys.argv[5]), int(sys.argv[6])
deliveries = rate * rooms * clients * clients * 3  # 3 s of the send window
messages = rate * rooms * clients * 3
send = sum(counts.get(k, 0) for k in ('sys_enter_sendto', 'sys_enter_write', 'sys_enter_writev'))
recv = counts.get('sys_enter_recvfrom', 0)
waits = sum(v for k, v in counts.items() if 'epoll' in k)
name = {'stateroom': 'Stateroom', 'base': 'Stateroom (base build)', 'bun': 'Bun'}[sys.argv[3]]
print(f"| {name} | {rate} | {run['deliveries_per_sec']:,.0f} | {send / deliveries:.2f} | {deliveries / max(send, 1):.2f} | "
      f"{recv / messages:.2f} | {waits / 3:,.0f} | {run['latency']['p50_us'] / 1000:.1f} | "
      f"{run['latency']['p99_us'] / 1000:.1f} | {run['server']['cpu_secs_per_million']:.2f} |")
PY
    done
done
