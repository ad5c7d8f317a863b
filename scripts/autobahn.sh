#!/usr/bin/env bash
# Runs the Autobahn testsuite's fuzzing client (PyPI autobahntestsuite, Python
# 2.7 only) against the echo example and writes the per-case results to
# docs/conformance.md. Performance (9.*) and compression (12.*, 13.*) cases are
# excluded. Skips, with a message, where Python 2.7 is not installed.
#
#   scripts/autobahn.sh            # all remaining 247 cases (~15 s)
#   AUTOBAHN_CASES='["1.*","7.*"]' scripts/autobahn.sh   # a subset
#   AUTOBAHN_OUT=target/conformance.md scripts/autobahn.sh  # report elsewhere
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

PY27="${PY27:-$HOME/.pyenv/versions/2.7.18/bin/python2.7}"
if [ ! -x "$PY27" ]; then
    PY27="$(command -v python2.7 || true)"
fi
if [ -z "$PY27" ] || [ ! -x "$PY27" ]; then
    echo "autobahn: SKIPPED: Python 2.7 is not installed (the testsuite runs on nothing newer)"
    exit 0
fi

WORK="${AUTOBAHN_DIR:-target/autobahn}"
mkdir -p "$WORK"
if [ ! -d "$WORK/site/autobahntestsuite" ]; then
    echo "autobahn: installing autobahntestsuite into $WORK/site"
    "$PY27" -m pip install --quiet --disable-pip-version-check --target "$WORK/site" autobahntestsuite==25.10.1
fi

cargo build --release --locked -p example-echo
PORT="${AUTOBAHN_PORT:-9137}"
STATEROOM_PORT="$PORT" RUST_LOG=warn ./target/release/example-echo --max-message-size 16777216 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
if ! wait_listening "$SERVER" "$PORT"; then
    echo "autobahn: the echo example did not start on port $PORT" >&2
    exit 1
fi

CASES="${AUTOBAHN_CASES:-[\"*\"]}"
cat > "$WORK/spec.json" <<JSON
{
  "outdir": "$PWD/$WORK/reports",
  "servers": [{"agent": "stateroom", "url": "ws://127.0.0.1:$PORT/ws/autobahn"}],
  "cases": $CASES,
  "exclude-cases": ["9.*", "12.*", "13.*"],
  "exclude-agent-cases": {}
}
JSON
rm -rf "$WORK/reports"
(cd "$WORK" && timeout 600 "$PY27" -c "import site,sys; site.addsitedir('site'); from autobahntestsuite.wstest import run; sys.exit(run())" -m fuzzingclient -s spec.json > wstest.log 2>&1)

python3 scripts/autobahn_report.py "$WORK/reports/index.json" "${AUTOBAHN_OUT:-docs/conformance.md}"
