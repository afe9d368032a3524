#!/usr/bin/env bash
# The performance benchmark of issues 7 and 26: jitaudit against DuckDB on the same
# diagnostic-settings JSON Lines, side by side in one run, for every file layout and mix.
#
#   bench/run.sh [GB ...]        sizes of JSON Lines input to make, default "1 5"
#
# Environment: RUNS (default 3, the median is reported), BENCH_DIR (where inputs go; default a
# temporary directory, kept so reruns reuse it), PROFILE (release; profiling, the release
# build with line tables for perf; or dev for a quick check),
# LAYOUTS (default "blobs one few"): how the same bytes lie on disk: `blobs`, the hourly blobs
#   a diagnostic setting writes (about a thousand a GB); `one`, one big file (a concatenated
#   export, an Event Hubs capture, an `az` dump); `few`, 24 files,
# MIXES (default "0 17"): the percentage of background operations that are NSG security-rule
#   writes by automation (`jitaudit sample --nsg-share`); at 17 about a sixth of the records
#   name an NSG, as in a tenant where AKS writes rules all day.
# Needs python3; installs DuckDB with pip when missing. Prints, per size, mix, layout and
# command: seconds (median), MB/s, events/s, peak RSS, and the median of DuckDB's time over
# jitaudit's in runs taken in turn (jitaudit, then DuckDB, RUNS times), so both sides see the
# same machine. The `sha256` row is the floor of a report: the time to hash the same bytes with
# OpenSSL (Python's hashlib), one file after another, divided by the cores for the layouts of
# many files (their hashes run side by side); `report`'s row shows its time over that floor.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jitaudit-target}"
profile="${PROFILE:-release}"
case "$profile" in
    release | profiling) cargo build --profile "$profile" --quiet; bin="$CARGO_TARGET_DIR/$profile/jitaudit" ;;
    *) cargo build --quiet; bin="$CARGO_TARGET_DIR/debug/jitaudit" ;;
esac
python3 -c 'import duckdb' 2>/dev/null || pip install --quiet duckdb
runs="${RUNS:-3}"
work="${BENCH_DIR:-${TMPDIR:-/tmp}/jitaudit-bench}"
mkdir -p "$work"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1 5)

# Bytes of the files under a directory (du would also count the blob layout's many folders).
file_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s}'; }

# Input size grows linearly with --scale over a fixed part (the JIT story): two small samples
# of each mix give the line, from which the scale of each size is computed.
calibrate() {
    local mix=$1 file="$work/calibration-$1"
    if [ ! -f "$file" ]; then
        for k in 1 20; do
            "$bin" sample --out "$work/unit-$mix-$k" --jsonl-only --scale "$k" --nsg-share "$mix" >/dev/null
            file_bytes "$work/unit-$mix-$k/insights-activity-logs"
        done | tr '\n' ' ' > "$file"
    fi
    cat "$file"
}

# make_layout BLOBS LAYOUT DIR: the blobs' records, in their order, laid out as LAYOUT in DIR.
make_layout() {
    local blobs=$1 layout=$2 out=$3
    [ -d "$out" ] && return
    mkdir -p "$out.tmp/insights-activity-logs"
    cp -r "$blobs/jitaudit.toml" "$blobs/arm" "$out.tmp/"
    find "$blobs/insights-activity-logs" -type f -name '*.json' | sort > "$out.tmp/list"
    case "$layout" in
        one) xargs cat < "$out.tmp/list" > "$out.tmp/insights-activity-logs/all.json" ;;
        few) python3 - "$out.tmp/list" "$out.tmp/insights-activity-logs" <<'PY'
import sys
files = [l.strip() for l in open(sys.argv[1]) if l.strip()]
parts = 24
for n in range(parts):
    with open(f"{sys.argv[2]}/part-{n:02d}.json", "wb") as out:
        for f in files[n * len(files) // parts:(n + 1) * len(files) // parts]:
            out.write(open(f, "rb").read())
PY
        ;;
    esac
    rm "$out.tmp/list"
    mv "$out.tmp" "$out"
}

# One run of a command: "seconds peak_RSS_KB".
run_once() {
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>&1 || true
    cat "$work/time.txt"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure LABEL COMMAND...: median seconds and peak RSS (MB) over $runs runs.
measure() {
    local label=$1; shift
    local times=() rss=0 secs m
    for _ in $(seq "$runs"); do
        read -r secs m <<< "$(run_once "$@")"
        times+=("$secs")
        [ "$m" -gt "$rss" ] && rss=$m
    done
    echo "$label $(printf '%s\n' "${times[@]}" | median) $((rss / 1024))"
}

# pair QUESTION: jitaudit's command (array OURS) and DuckDB's (array DUCK) run in turn, $runs
# times, so that both see the same machine (its speed drifts by a fifth between minutes);
# prints each side's median and the median of the per-run ratios DuckDB / jitaudit.
pair() {
    local question=$1 ours=() duck=() ratios=() rss_o=0 rss_d=0 so mo sd md
    for _ in $(seq "$runs"); do
        read -r so mo <<< "$(run_once "${OURS[@]}")"
        read -r sd md <<< "$(run_once "${DUCK[@]}")"
        ours+=("$so"); duck+=("$sd")
        ratios+=("$(python3 -c "print($sd / max($so, 0.01))")")
        [ "$mo" -gt "$rss_o" ] && rss_o=$mo
        [ "$md" -gt "$rss_d" ] && rss_d=$md
    done
    echo "$question $(printf '%s\n' "${ours[@]}" | median) $((rss_o / 1024)) $(printf '%s\n' "${ratios[@]}" | median)"
    echo "duckdb-$question $(printf '%s\n' "${duck[@]}" | median) $((rss_d / 1024))"
}

# DuckDB's speed differs between its releases: the figures name the one they were taken with.
cores=$(nproc)
echo "jitaudit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), DuckDB $(python3 -c 'import duckdb; print(duckdb.__version__)'), $cores cores"
printf '%-8s %-4s %-6s %-22s %9s %9s %12s %9s %9s\n' size mix layout command seconds MB/s events/s RSS_MB vs_duckdb
layouts=(${LAYOUTS:-blobs one few})
mixes=(${MIXES:-0 17})
sql="SELECT operation_id, COUNT(*) AS n FROM events GROUP BY operation_id"
for gb in "${sizes[@]}"; do
  for mix in "${mixes[@]}"; do
    read -r bytes1 bytes20 <<< "$(calibrate "$mix")"
    blobs="$work/input-${gb}gb-mix${mix}-blobs"
    scale=$(python3 -c "import math; k = ($bytes20 - $bytes1) / 19; print(max(1, math.ceil(($gb * 1e9 - $bytes1) / k + 1)))")
    if [ ! -d "$blobs" ]; then
        "$bin" sample --out "$blobs.tmp" --jsonl-only --scale "$scale" --nsg-share "$mix" >/dev/null
        mv "$blobs.tmp" "$blobs"
    fi
    for layout in "${layouts[@]}"; do
        dir="$work/input-${gb}gb-mix${mix}-$layout"
        make_layout "$blobs" "$layout" "$dir"
        logs="$dir/insights-activity-logs"
        bytes=$(file_bytes "$logs")
        events=$(find "$logs" -name '*.json' -exec cat {} + | wc -l)
        mb=$(python3 -c "print($bytes / 1e6)")
        # The floor: every byte hashed once, one file after another (or side by side on every
        # core, for many files).
        share=$([ "$layout" = one ] && echo 1 || echo "$cores")
        {
            floors=()
            for _ in $(seq "$runs"); do floors+=("$(python3 "$root/bench/sha256_floor.py" "$logs" "$share")"); done
            echo "sha256 $(printf '%s\n' "${floors[@]}" | median) 0"
            OURS=("$bin" report "$dir" --config "$dir/jitaudit.toml" --out "$work/out" --format json)
            DUCK=(python3 "$root/bench/duckdb_side.py" "$dir" report)
            pair report
            OURS=("$bin" caller bob@contoso.com "$dir" --format json)
            DUCK=(python3 "$root/bench/duckdb_side.py" "$dir" caller)
            pair caller
            OURS=("$bin" query "$dir" "$sql" --format csv)
            DUCK=(python3 "$root/bench/duckdb_side.py" "$dir" query)
            pair query-json
            if [ "$layout" = blobs ]; then
                rm -rf "$dir.parquet"
                "$bin" ingest "$dir" --out "$dir.parquet" >/dev/null
                measure "query-parquet" "$bin" query "$dir.parquet" "$sql" --format csv
                # Every event twice (the JSON and the Parquet made from it): de-duplication at scale.
                measure "query-duplicated" "$bin" query "$dir" "$dir.parquet" "$sql" --format csv
                # The same bytes as one gzip file of JSON Lines, inflated a window at a time:
                # memory stays flat from one size to the next.
                if [ ! -f "$dir.jsonl.gz" ]; then
                    find "$logs" -type f -name '*.json' | sort | xargs cat | gzip -1 > "$dir.jsonl.gz"
                fi
                measure "scan-gzip" "$bin" scan "$dir.jsonl.gz" --format csv
            fi
        } > "$work/results.txt"
        python3 - "$work/results.txt" "$gb" "$mix" "$layout" "$mb" "$events" <<'PY'
import sys
path, gb, mix, layout, mb, events = sys.argv[1:5] + [float(sys.argv[5]), int(sys.argv[6])]
rows = {}
for line in open(path):
    name, secs, rss, *ratio = line.split()
    rows[name] = (float(secs), int(rss), float(ratio[0]) if ratio else None)
for name, (secs, rss, ratio) in rows.items():
    secs = max(secs, 0.01)
    if ratio is None and name.startswith("query-"):
        # Against DuckDB's median over the JSON (these have no run of their own beside it).
        ratio = rows["duckdb-query-json"][0] / secs
    shown = f"{ratio:.2f}x" if ratio is not None else ""
    print(f"{gb + 'GB':<8} {mix:<4} {layout:<6} {name:<22} {secs:9.2f} {mb / secs:9.1f} {events / secs:12.0f} {rss:9d} {shown:>9}")
floor = rows["sha256"][0]
target = 1.2 if layout == "one" else 1.5
print(f"{gb + 'GB':<8} {mix:<4} {layout:<6} report / sha256 floor: {rows['report'][0] / max(floor, 0.01):.2f} (target at most {target})")
PY
    done
  done
done
