#!/usr/bin/env bash
# Where big tenants keep their logs (issue 28): `collect --log-analytics --activity jit` then
# `report`, on a generated estate (default 200 subscriptions, 1,000 VMs, 300 people, 90 days,
# background scale 10: about 810,000 Activity Log rows) served by the tests' fake Log
# Analytics query API and fake Resource Manager on 127.0.0.1. Prints the queries and requests
# sent, the rows transferred against the rows in the window, the snapshot's size, and the wall
# time and peak memory (/usr/bin/time) of `collect` and of `report` on the snapshot.
#
# The fakes live in the integration tests (tests/it/engines.rs, tests/it/arm.rs), so the
# measurement is an ignored test, `logs::bench_collect_from_log_analytics`, built in the test
# profile (optimized); BENCH_BIN may name another binary to measure.
#
# Environment: BENCH_DIR (default $TMPDIR/jitaudit-engines), SUBSCRIPTIONS, VMS, PEOPLE, DAYS,
# SCALE, BENCH_BIN. Targets (issue 28): rows transferred a few percent of the window's with
# `--activity jit`, peak memory at most 512 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/jitaudit-target}"
cargo build --quiet --locked
bin="$CARGO_TARGET_DIR/debug/jitaudit"
work="${BENCH_DIR:-${TMPDIR:-/tmp}/jitaudit-engines}"
subs="${SUBSCRIPTIONS:-200}" vms="${VMS:-1000}" people="${PEOPLE:-300}" days="${DAYS:-90}" scale="${SCALE:-10}"
estate="$work/estate-$subs-$vms-$people-$days-$scale"
mkdir -p "$work"
if [ ! -d "$estate" ]; then
    "$bin" sample --out "$estate.tmp" --subscriptions "$subs" --vms "$vms" --people "$people" \
        --days "$days" --scale "$scale" --log-shape log-analytics >/dev/null
    mv "$estate.tmp" "$estate"
fi
echo "jitaudit $(git rev-parse --short HEAD), $(nproc) cores, estate $subs subscriptions / $vms VMs / $people people / $days days / scale $scale"
BENCH_ESTATE="$estate" cargo test --quiet --locked --test it bench_collect_from_log_analytics \
    -- --ignored --nocapture 2>&1 | grep -E '^(estate|engine|Resource|rows|snapshot|collect|report)'
