#!/usr/bin/env bash
# Benchmarks the run store on a SQLite file and on a scratch PostgreSQL server started here on
# loopback (stopped and deleted on exit): claim latency, metric logging cost per training step,
# runs claimed per second by 16 concurrent workers. Extra arguments go to `isoflop bench-store`
# (e.g. --step-ms 5 --runs 4000).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product isoflop >/dev/null
isoflop=.build/release/isoflop

bin=$(pg_config --bindir 2>/dev/null || true)
if [ ! -x "$bin/pg_ctl" ]; then bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1); fi
if [ ! -x "$bin/pg_ctl" ]; then echo "PostgreSQL server binaries not found: install Debian's postgresql package" >&2; exit 1; fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/isoflop-bench-store-XXXXXX")
# PostgreSQL refuses to run as root: the cluster then belongs to the postgres user.
as_server=()
if [ "$(id -u)" -eq 0 ]; then
    chmod 755 "$dir"
    chown postgres: "$dir"
    as_server=(runuser -u postgres --)
fi
cleanup() {
    "${as_server[@]}" "$bin/pg_ctl" stop -D "$dir/data" -m fast >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT

# Default durability settings (fsync on): what a cluster's database would run with.
"${as_server[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-instructions >/dev/null
port=""
for _ in 1 2 3 4 5; do
    candidate=$((20000 + RANDOM % 40000))
    if "${as_server[@]}" "$bin/pg_ctl" start -D "$dir/data" -w -t 60 -l "$dir/server.log" \
        -o "-h 127.0.0.1 -p $candidate -k $dir" >/dev/null; then
        port=$candidate
        break
    fi
done
if [ -z "$port" ]; then echo "PostgreSQL did not start:" >&2; tail -5 "$dir/server.log" >&2; exit 1; fi
"${as_server[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres bench

url="postgresql://postgres@127.0.0.1:$port/bench"
echo "== SQLite (WAL, synchronous=NORMAL: commits are not fsynced)"
"$isoflop" bench-store --store "sqlite:$dir/bench.sqlite" "$@"
echo "== PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on loopback, default durability (every commit fsynced)"
"$isoflop" bench-store --store "$url" "$@"
echo "== PostgreSQL with synchronous_commit=off for this session (comparable to SQLite's setting)"
"$isoflop" bench-store --store "$url?options=-c%20synchronous_commit%3Doff" "$@"
