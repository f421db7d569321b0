#!/usr/bin/env python3
"""Groups a flat `perf report` (self time per symbol) into layers.

Usage: perf report -i FILE --no-children --sort dso,sym --stdio \
           | python3 bench/perf_buckets.py
"""
import re
import sys

# First match wins; order matters (e.g. sqlx before sqlite).
BUCKETS = [
    ("kernel: scheduler, futex, wakeups", r"\[k\] .*(sched|switch|futex|wake|schedule|idle|irq|_raw_spin|try_to_wake|pick_next|update_|enqueue|dequeue|rcu|hrtimer|tick)"),
    ("kernel: network (loopback TCP)", r"\[k\] .*(tcp|inet|sock|skb|ip_|net_|__dev|loopback|napi|nf_|dst_|lock_sock|release_sock|__sys_send|__sys_recv|sendmsg|recvmsg)"),
    ("kernel: epoll, syscalls, other", r"\[k\] "),
    ("SQLite engine (C)", r"\] (sqlite3|yy|sqlite|pcache|btree|vdbe|pager|wal|unix|os|mem[0-9]|pthreadMutex|balance|moveTo|getAndInit|insertCell|whereLoop|exprAnalyze|lookupName|resolve|walker|sqlite3Select|sqlite3Expr|fts|json)"),
    ("sqlx (driver, worker thread, channels)", r"sqlx|flume|crossbeam|futures_channel|futures_intrusive"),
    ("SeaORM / sea-query (query building, row mapping)", r"sea_orm|sea_query"),
    ("crypto (ring AES-GCM, key unwrap)", r"ring|aes|gcm|ghash|GFp|chacha|\] ring_core"),
    ("h2 / hyper (HTTP/2 framing)", r"\bh2::|hyper|httparse|hpack|http::|http_body"),
    ("tonic / prost / tower (gRPC codec, routing)", r"tonic|prost|tower|axum"),
    ("tracing (per-RPC span and log line)", r"tracing|nu_ansi|sharded_slab|matchers|regex|fmt::|core::fmt|alloc::fmt|Write"),
    ("tokio runtime", r"tokio|mio|parking_lot"),
    ("malloc / free / memcpy (libc)", r"libc\.so.*\] (_int_|malloc|cfree|free|realloc|calloc|unlink_chunk|__memmove|__memcpy|__memset|__memcmp|__strlen|tcache|malloc_consolidate)"),
    ("libc: threads, locks, syscall stubs", r"libc\.so"),
    ("strongroom (handlers, domain, envelope)", r"strongroom::|uuid|base64|secrecy|zeroize"),
]

total = 0.0
sums = {name: 0.0 for name, _ in BUCKETS}
sums["other"] = 0.0
top_other = []
for line in sys.stdin:
    m = re.match(r"\s*([0-9.]+)%\s+(.*)$", line)
    if not m:
        continue
    pct, rest = float(m.group(1)), m.group(2)
    total += pct
    for name, pattern in BUCKETS:
        if re.search(pattern, rest):
            sums[name] += pct
            break
    else:
        sums["other"] += pct
        top_other.append((pct, rest.strip()))

for name, value in sorted(sums.items(), key=lambda kv: -kv[1]):
    if value >= 0.05:
        print(f"{value:6.1f}%  {name}")
print(f"{total:6.1f}%  total sampled")
if "-v" in sys.argv:
    for pct, rest in sorted(top_other, reverse=True)[:25]:
        print(f"   other {pct:5.2f}% {rest}")
