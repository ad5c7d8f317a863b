#!/usr/bin/env bash
# One shape, side by side and alternated: this build of bench-server, another
# build (OTHER) and Bun, each pinned to core 0 with one thread, the generator
# on core 1, a fresh server per run. Prints, per run, deliveries/s, p50, p99,
# lost and the server's CPU seconds per million deliveries (from
# /proc/PID/stat), so a change is judged by its ratio against the build
# before it in the same minutes. Not part of CI; figures go to
# docs/benchmarks-notes.md by hand.
#
#   bench/side.sh                        # echo, 10 rooms x 100, 100k and 200k/s
#   OTHER=/tmp/bench-server-old bench/side.sh
#   SCENARIO=fanout ROOMS=1000 CLIENTS=4 RATES="19 30" ROUNDS=3 bench/side.sh
#   SERVERS="new bun" bench/side.sh      # which of new, other, bun to run
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
ulimit -n "$(ulimit -Hn)"
SCENARIO="${SCENARIO:-echo}"
ROOMS="${ROOMS:-10}"
CLIENTS="${CLIENTS:-100}"
RATES="${RATES:-100 200}"
ROUNDS="${ROUNDS:-2}"
OTHER="${OTHER:-}"
SERVERS="${SERVERS:-new ${OTHER:+other} bun}"
MODE=fanout
[ "$SCENARIO" = echo ] && MODE=echo
cargo build --release --locked -q -p stateroom-bench
[ -x bench/node/node_modules/.bin/bun ] || (cd bench/node && npm ci --silent)
DIR="$PWD/target/bench/side"
mkdir -p "$DIR"
PORT=9900
PID=
cleanup() { [ -z "$PID" ] || kill "$PID" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
for round in $(seq "$ROUNDS"); do
    for rate in $RATES; do
        for server in $SERVERS; do
            PORT=$((PORT + 1))
            while listening "$PORT"; do PORT=$((PORT + 1)); done
            case $server in
                new) cmd=(./target/release/bench-server --kind stateroom --mode "$MODE" --port "$PORT" --worker-threads 1) ;;
                other) cmd=("$OTHER" --kind stateroom --mode "$MODE" --port "$PORT" --worker-threads 1) ;;
                bun) cmd=(env PORT="$PORT" MODE="$MODE" bench/node/node_modules/.bin/bun bench/node/bun-server.js) ;;
                *) echo "side: unknown server $server" >&2; exit 2 ;;
            esac
            taskset -c 0 "${cmd[@]}" > "$DIR/$server.log" 2>&1 &
            PID=$!
            wait_listening "$PID" "$PORT"
            taskset -c 1 ./target/release/stateroom-load --target "127.0.0.1:$PORT" \
                --scenario "$SCENARIO" --rooms "$ROOMS" --clients "$CLIENTS" --rate "$rate" \
                --duration 5 --drain 5 --server-pid "$PID" --quiet --json "$DIR/run.json" > /dev/null
            kill "$PID"
            wait "$PID" 2>/dev/null || true
            PID=
            python3 - "$DIR/run.json" "$round" "$rate" "$server" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cpu = r["server"]["cpu_secs_per_million"]
print(f"round {sys.argv[2]} rate {sys.argv[3]:>4} {sys.argv[4]:<6} "
      f"{r['deliveries_per_sec']:>9.0f}/s p50 {r['latency']['p50_us'] / 1000:6.1f} ms "
      f"p99 {r['latency']['p99_us'] / 1000:6.1f} ms lost {r['lost']} "
      f"cpu s/M {cpu if cpu is None else round(cpu, 3)}")
PY
        done
    done
done
