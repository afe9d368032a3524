#!/usr/bin/env bash
# The report at a tenant's size (issue 27): generates the estate with `jitaudit sample
# --subscriptions` (default 20 subscriptions, 400 VMs, 60 people, 90 days, background scale
# 30: about 40,000 hourly blobs and 233,000 records), then measures, with /usr/bin/time,
# `report`, `scan`, `caller` and `query` on it (wall time and peak RSS, the median of RUNS),
# the sizes of the report's files, and how long headless Chromium takes to load report.html
# and run its script (`--dump-dom`), beside the time it takes for an empty page.
#
# Environment: RUNS (default 3), BENCH_DIR (default $TMPDIR/jitaudit-estate), SUBSCRIPTIONS,
# VMS, PEOPLE, DAYS, SCALE. Targets (issue 27): report.html at most 2 MB, rendered in under 2 s,
# the run's peak memory at most 512 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jitaudit-target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/jitaudit"
runs="${RUNS:-3}"
work="${BENCH_DIR:-${TMPDIR:-/tmp}/jitaudit-estate}"
subs="${SUBSCRIPTIONS:-20}" vms="${VMS:-400}" people="${PEOPLE:-60}" days="${DAYS:-90}" scale="${SCALE:-30}"
estate="$work/estate-$subs-$vms-$people-$days-$scale"
if [ ! -d "$estate" ]; then
    "$bin" sample --out "$estate.tmp" --subscriptions "$subs" --vms "$vms" --people "$people" \
        --days "$days" --scale "$scale" >/dev/null
    mv "$estate.tmp" "$estate"
fi
config="$estate/jitaudit.toml"
# The estate's first person (people are named in order: ana.adams is the first).
caller="${CALLER:-ana.adams@contoso.com}"

# measure NAME COMMAND...: the median wall seconds and peak RSS (MB) of RUNS runs.
measure() {
    local name=$1; shift
    local times=() rss=()
    for _ in $(seq "$runs"); do
        local out
        /usr/bin/time -o "$work/time.txt" -f '%e %M' "$@" >/dev/null 2>&1 || true
        out=$(tail -1 "$work/time.txt")
        times+=("${out% *}") rss+=("${out#* }")
    done
    local t r
    t=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
    r=$(printf '%s\n' "${rss[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
    printf '%-34s %8s s %8d MB\n' "$name" "$t" "$((r / 1024))"
}

files=$(find "$estate" -type f | wc -l)
bytes=$(find "$estate" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
echo "jitaudit $(git rev-parse --short HEAD), $(nproc) cores; estate of $subs subscriptions, $vms VMs, $people people, $days days: $files files, $((bytes / 1000000)) MB"
out="$work/report"
measure report "$bin" report "$estate" --config "$config" --out "$out"
measure scan "$bin" scan "$estate" --config "$config"
measure "caller $caller" "$bin" caller "$caller" "$estate" --format json
measure "query (events by operation)" "$bin" query "$estate" "select operation_id, count(*) from events group by 1"
for f in report.html report.md summary.json findings.csv requests.csv; do
    printf '%-34s %10d bytes\n' "$f" "$(stat -c %s "$out/$f")"
done
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -n "$browser" ]; then
    profile=$(mktemp -d)
    flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
        --disable-background-networking --disable-component-update --disable-sync
        "--user-data-dir=$profile")
    measure "chromium: empty page" "$browser" "${flags[@]}" --dump-dom "data:text/html,<p>x"
    measure "chromium: report.html" "$browser" "${flags[@]}" --dump-dom "file://$out/report.html"
    rm -rf "$profile"
fi
