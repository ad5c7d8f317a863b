#!/usr/bin/env bash
# Side-by-side benchmarks: Stateroom, the raw hyper-tungstenite floor, a Node
# `ws` server, a Bun server (uWebSockets) and a Colyseus room, all doing the
# same fair scenario, driven by the same load generator, and written up in
# docs/benchmarks.md.
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
    ROOMS_RATES="5"
    TINY_RATES="5"
    MID_RATES="2"
    ECHO_RATES="20"
    DURATION=1
    IDLE_ROOMS="10"
    OVERLOAD_RATES=""
    PERSIST_RATES="5"
    SYNC_CLIENTS="50"
    PRESENCE_CLIENTS="100"
    YJS_RATES="1000"
    YJS_MEMORY_DOCS="200"
else
    FANOUT_RATES="2 5 10 20 50 100 150 200 250 300"
    # 200 rooms x 10 clients: 20,000 deliveries/s per unit of rate.
    # Up to the generator's limit (one core: about 500,000 deliveries/s).
    ROOMS_RATES="1 2 3 5 10 15 20 25"
    # The curve's other shapes, to the same limit: 1,000 rooms x 4 clients
    # (16,000 deliveries/s per unit of rate) and 20 rooms x 50 (50,000).
    # 9 splits the step where rooms of 4 part ways (96,000 to 192,000).
    TINY_RATES="1 3 6 9 12 19 25 31"
    MID_RATES="1 2 4 6 8 10"
    ECHO_RATES="10 50 100 200 400 800"
    DURATION=5
    # 10,000 and 19,000 idle connections (19,000: the descriptor ceiling of one
    # process here, for the generator as for the server).
    IDLE_ROOMS="100 190"
    # Past saturation (1 x 100 fan-out offered 2.5M and 3M deliveries/s): who
    # is closed, what is lost, what the latency becomes.
    OVERLOAD_RATES="250 300"
    PERSIST_RATES="2 5 20 50"
    # State sync: clients in the one room of 1,000 entities.
    SYNC_CLIENTS="50 100 200 400 800 1600"
    PRESENCE_CLIENTS="250 500 1000 2000 4000"
    # Yjs: 100 documents x 5 editors, updates per second in all.
    YJS_RATES="1000 2000 5000 10000 20000 40000 80000"
    YJS_MEMORY_DOCS="2000"
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
        persisted-sessions) rm -rf "$OUT/data"; cmd=(./target/release/bench-server --kind persisted-sessions --port "$PORT" --worker-threads 1 --data-dir "$OUT/data") ;;
        stateroom-nometrics) cmd=(./target/release/bench-server --kind stateroom --mode "$2" --port "$PORT" --worker-threads 1 --metrics false) ;;
        raw)         cmd=(./target/release/bench-server --kind raw --mode "$2" --port "$PORT" --worker-threads 1) ;;
        ws)          cmd=(env PORT="$PORT" MODE="$2" node bench/node/ws-server.js) ;;
        bun)         cmd=(env PORT="$PORT" MODE="$2" bench/node/node_modules/.bin/bun bench/node/bun-server.js) ;;
        colyseus)    cmd=(env PORT="$PORT" MODE="$2" node bench/node/colyseus-server.js) ;;
        stateroom-sync) cmd=(./target/release/bench-server --kind sync --port "$PORT" --worker-threads 1) ;;
        presence)    cmd=(./target/release/bench-server --kind presence --port "$PORT" --worker-threads 1) ;;
        hand-presence) cmd=(./target/release/bench-server --kind hand-presence --port "$PORT" --worker-threads 1) ;;
        # A Yjs document may arrive whole (an import): 4 MiB messages.
        yjs-stateroom) cmd=(./target/release/bench-server --kind yjs --port "$PORT" --worker-threads 1 --max-message-size 4194304) ;;
        yjs-persisted) rm -rf "$OUT/data"; cmd=(./target/release/bench-server --kind persisted-yjs --port "$PORT" --worker-threads 1 --max-message-size 4194304 --data-dir "$OUT/data") ;;
        yjs-y-websocket) cmd=(env PORT="$PORT" HOST=127.0.0.1 node bench/node/yws-server.mjs) ;;
        yjs-hocuspocus) cmd=(env PORT="$PORT" node bench/node/hocuspocus-server.mjs) ;;
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
# LABEL names the series in the report (default: the scenario).
ramp() {
    local name=$1 scenario=$2 rooms=$3 clients=$4; shift 4
    local label=${LABEL:-$scenario}
    for rate in "$@"; do
        local file="$OUT/$name-$label-$rate.json"
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
        python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"bench: {sys.argv[2]:<12} {sys.argv[3]:<9} rate {sys.argv[4]:>4}: {r['deliveries_per_sec']:>10.0f} deliveries/s, p99 {r['latency']['p99_us']/1000:8.1f} ms, lost {r['lost']}, errors {r['errors']}\")" "$file" "$name" "$label" "$rate"
        passes "$file" || break
    done
}

for server in stateroom raw ws bun colyseus; do
    # shellcheck disable=SC2086
    ramp "$server" fanout 1 100 $FANOUT_RATES
    # shellcheck disable=SC2086
    LABEL=manyrooms ramp "$server" fanout 200 10 $ROOMS_RATES
    # shellcheck disable=SC2086
    LABEL=tinyrooms ramp "$server" fanout 1000 4 $TINY_RATES
    # shellcheck disable=SC2086
    LABEL=midrooms ramp "$server" fanout 20 50 $MID_RATES
    # shellcheck disable=SC2086
    ramp "$server" echo 10 100 $ECHO_RATES
    for rooms in $IDLE_ROOMS; do
        start "$server" fanout
        $LOAD_CPU $LOAD --target "127.0.0.1:$PORT" --protocol "$(protocol "$server")" --scenario idle \
            --rooms "$rooms" --clients 100 --duration 2 --server-pid "$PID" --quiet \
            --json "$OUT/$server-idle-$((rooms * 100)).json" > /dev/null || true
        stop
    done
    echo "bench: $server idle done"
done
# Past saturation: one run per offered rate, no ramp (every step fails here).
for server in stateroom raw bun; do
    for rate in $OVERLOAD_RATES; do
        once "$server" fanout 1 100 "$rate" "$OUT/$server-overload-$rate.json"
        python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"bench: {sys.argv[2]:<12} overload rate {sys.argv[3]:>4}: {r['deliveries_per_sec']:>10.0f} deliveries/s, p99 {r['latency']['p99_us']/1000:8.1f} ms, lost {r['lost']}, errors {r['errors']}\")" "$OUT/$server-overload-$rate.json" "$server" "$rate" || true
    done
done
# The cost of metrics: the same fan-out ramp with them off.
# shellcheck disable=SC2086
ramp stateroom-nometrics fanout 1 100 $FANOUT_RATES
# shellcheck disable=SC2086
ramp stateroom-nometrics echo 10 100 $ECHO_RATES
# Cluster: one fan-out room (1 × 100) owned by node A, its clients joining A
# directly, then joining node B, which forwards each join to A (one hop: B
# copies every byte). Both nodes on the server core, one Redis of our own.
if command -v redis-server > /dev/null; then
    # Absolute: Redis changes into --dir before it binds the socket, and a
    # redis+unix:// URL needs an absolute path.
    REDIS_DIR="$PWD/$OUT/redis"
    for rate in $FANOUT_RATES; do
        rm -rf "$REDIS_DIR" && mkdir -p "$REDIS_DIR"
        redis-server --port 0 --unixsocket "$REDIS_DIR/redis.sock" --save "" --appendonly no \
            --dir "$REDIS_DIR" >> "$OUT/servers.log" 2>&1 &
        REDIS_PID=$!
        for _ in $(seq 100); do [ -S "$REDIS_DIR/redis.sock" ] && break; sleep 0.05; done
        [ -S "$REDIS_DIR/redis.sock" ] || { echo "bench: cluster: redis-server did not start" >&2; exit 1; }
        nodes=()
        for node in a b; do
            PORT=$((PORT + 1)); while listening "$PORT"; do PORT=$((PORT + 1)); done
            INTERNAL=$((PORT + 1)); while listening "$INTERNAL"; do INTERNAL=$((INTERNAL + 1)); done
            # shellcheck disable=SC2086
            $SERVER_CPU ./target/release/bench-server --kind stateroom --mode fanout --port "$PORT" \
                --worker-threads 1 --room-grace-ms 600000 --cluster "redis+unix://$REDIS_DIR/redis.sock" \
                --node-id "$node" --internal-addr "127.0.0.1:$INTERNAL" >> "$OUT/servers.log" 2>&1 &
            nodes+=("$!:$PORT")
            wait_listening "$!" "$PORT" || { echo "bench: cluster node $node did not start" >&2; exit 1; }
            PORT=$INTERNAL
        done
        for pass in direct hop; do
            target="${nodes[0]#*:}"; pid="${nodes[0]%%:*}"
            [ "$pass" = hop ] && target="${nodes[1]#*:}"
            file="$OUT/cluster-$pass-fanout-$rate.json"
            # The hop's CPU is both nodes': the generator reads the owner's.
            $LOAD_CPU $LOAD --target "127.0.0.1:$target" --scenario fanout --rooms 1 --clients 100 \
                --rate "$rate" --duration "$DURATION" --drain 5 --server-pid "$pid" --quiet --json "$file" > /dev/null || true
            [ -s "$file" ] && python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"bench: cluster {sys.argv[2]:<6} rate {sys.argv[3]:>4}: {r['deliveries_per_sec']:>10.0f} deliveries/s, p99 {r['latency']['p99_us']/1000:8.1f} ms, lost {r['lost']}\")" "$file" "$pass" "$rate"
        done
        for node in "${nodes[@]}"; do kill "${node%%:*}" 2>/dev/null || true; wait "${node%%:*}" 2>/dev/null || true; done
        kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true
        # A step that breaks the objective directly ends the ramp.
        passes "$OUT/cluster-direct-fanout-$rate.json" 2>/dev/null || break
    done
fi
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
# Exactly once: the persisted chat with sessions, its clients unnumbered
# (at most once) and numbered (`?next=1`: each message's number kept in the
# snapshot, acks batched), side by side.
for rate in $PERSIST_RATES; do
    for numbering in unnumbered numbered; do
        file="$OUT/sessions-$numbering-$rate.json"
        query=()
        [ "$numbering" = numbered ] && query=(--query next=1)
        start persisted-sessions fanout
        $LOAD_CPU $LOAD --target "127.0.0.1:$PORT" --scenario fanout --rooms 100 --clients 10 "${query[@]}" \
            --rate "$rate" --duration "$DURATION" --drain 5 --server-pid "$PID" --quiet --json "$file" > /dev/null || true
        stop
        python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"bench: sessions {sys.argv[2]:<10} 100x10 rate {sys.argv[3]:>4}: {r['deliveries_per_sec']:>10.0f} deliveries/s, p50 {r['latency']['p50_us']/1000:6.1f} ms, p99 {r['latency']['p99_us']/1000:6.1f} ms, lost {r['lost']}\")" "$file" "$numbering" "$rate"
    done
done
# State sync against Colyseus: one room of 1,000 entities, 5 % of their fields
# changed per 50 ms tick, patched at 50 ms (Stateroom's JSON Patch of its
# `view`; Colyseus's @colyseus/schema), N clients reading, one probe client's
# echo for the room loop's latency. A room size passes while the probe's p99
# stays within 100 ms, every client keeps the patch rate (18 frames/s of 20)
# and nothing errs.
mkdir -p "$OUT/sync"
for server in stateroom colyseus; do
    for clients in $SYNC_CLIENTS; do
        file="$OUT/sync/$server-$clients.json"
        if [ "$server" = colyseus ]; then start colyseus sync; else start stateroom-sync sync; fi
        $LOAD_CPU ./target/release/stateroom-sync-load --target "127.0.0.1:$PORT" --protocol "$(protocol "$server")" \
            --clients "$clients" --duration "$DURATION" --server-pid "$PID" --json "$file" > /dev/null || true
        stop
        [ -s "$file" ] || { echo "bench: sync $server $clients: no report"; break; }
        python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"bench: sync {sys.argv[2]:<10} {r['clients']:>5} clients: {r['server_cpu_ms_per_tick']:6.2f} ms CPU/tick, {r['bytes_per_client_per_tick']:8.0f} B/client/tick, {r['frames_per_client_per_sec']:5.1f} frames/s, probe p99 {r['probe_p99_us']/1000:7.1f} ms\")" "$file" "$server"
        python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r['errors']==0 and r['probe_p99_us']<=100000 and r['frames_per_client_per_sec']>=18 else 1)" "$file" || break
    done
done
# Presence: N clients join one room as fast as they can (256 handshakes in
# flight); each counts the frames that tell it who is present until it knows
# all N. Stateroom's presence (one patch per 50 ms tick) against presence
# written by hand (each join broadcast at once), same clients.
mkdir -p "$OUT/presence"
for clients in $PRESENCE_CLIENTS; do
    for server in presence hand-presence; do
        file="$OUT/presence/$server-$clients.json"
        start "$server" fanout
        $LOAD_CPU ./target/release/stateroom-presence-storm --target "127.0.0.1:$PORT" \
            --clients "$clients" --server-pid "$PID" --json "$file" > /dev/null || true
        stop
        [ -s "$file" ] || { echo "bench: presence $server $clients: no report"; continue; }
        python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"bench: presence {sys.argv[2]:<13} {r['clients']:>5} clients: {r['frames_per_client']:7.1f} frames/client, {r['bytes_per_client']:8.0f} B/client, {r['server_cpu_ms']:6.0f} ms CPU, settled in {r['settled_ms']:6.0f} ms\")" "$file" "$server"
    done
done
# Yjs documents: Stateroom's doc room (in memory, and persisted behind the
# output gate in SQLite) against y-websocket's own server and Hocuspocus
# (both in memory: no persistence extension). Updates: 100 documents x 5
# editors, the rate stepped up until p99 passes 100 ms or a delivery is lost
# (a failing step retried once). Memory per open document; time to load a
# 1 MB document.
mkdir -p "$OUT/yjs"
yjs_peer() { case "$1" in yjs-stateroom|yjs-persisted) echo stateroom ;; yjs-y-websocket) echo y-websocket ;; yjs-hocuspocus) echo hocuspocus ;; esac; }
for server in yjs-stateroom yjs-persisted yjs-y-websocket yjs-hocuspocus; do
    for rate in $YJS_RATES; do
        file="$OUT/yjs/$server-updates-$rate.json"
        for attempt in 1 2; do
            start "$server" fanout
            $LOAD_CPU ./target/release/stateroom-yjs-load --target "127.0.0.1:$PORT" --peer "$(yjs_peer "$server")" \
                --scenario updates --docs 100 --clients 5 --rate "$rate" --duration "$DURATION" \
                --server-pid "$PID" --json "$file" > /dev/null || true
            stop
            [ -s "$file" ] && python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r['lost']==0 and r['errors']==0 and r['p99_us']<=100000 else 1)" "$file" && break
        done
        [ -s "$file" ] || { echo "bench: yjs $server $rate: no report"; break; }
        python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"bench: yjs {sys.argv[2]:<16} {r['rate']:>6}/s: delivered {r['delivered']:>8}/{r['expected']:<8} p99 {r['p99_us']/1000:7.1f} ms, {r['cpu_us_per_delivery']:5.1f} us CPU/delivery\")" "$file" "$server"
        python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r['lost']==0 and r['errors']==0 and r['p99_us']<=100000 else 1)" "$file" || break
    done
    for scenario in memory load; do
        file="$OUT/yjs/$server-$scenario.json"
        start "$server" fanout
        $LOAD_CPU ./target/release/stateroom-yjs-load --target "127.0.0.1:$PORT" --peer "$(yjs_peer "$server")" \
            --scenario "$scenario" --docs "$YJS_MEMORY_DOCS" --server-pid "$PID" --json "$file" > /dev/null || true
        stop
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
