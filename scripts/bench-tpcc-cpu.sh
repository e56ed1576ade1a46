#!/usr/bin/env bash
# TPC-C client cost: 1 warehouse x 8 terminals (client mode, no think times) on a
# throwaway cluster, stormbench on each driver, and optionally an older build (BEFORE),
# interleaved and repeated. Prints medians of New-Orders per minute (tpmC) and the client
# CPU (user+sys of the stormbench process, /usr/bin/time) per New-Order.
#
#   scripts/bench-tpcc-cpu.sh
#   BEFORE=path/to/old/stormbench DURATION=20 REPEAT=5 scripts/bench-tpcc-cpu.sh
#   SB_BIN=target/pgo/stormbench scripts/bench-tpcc-cpu.sh   # measure another build (PGO)
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE=${SCALE:-1}
DURATION=${DURATION:-20}
REPEAT=${REPEAT:-5}
THREADS=${THREADS:-2}
PORT=${BENCH_PGPORT:-55439}
DATA=${BENCH_PGDATA:-/tmp/stormbench-bench-pg}
BEFORE=${BEFORE:-}

source scripts/bench-pgbench-setup.sh
echo "== loading tpcc, $SCALE warehouse(s)"
"$SB" --host $HOST --port "$PORT" -u $USER_ --dbname $DB -w tpcc --scale "$SCALE" --setup --no-run -q >/dev/null

# run BINARY DRIVER -> "tpmc cpu_us_per_new_order"
run() {
    local out json=$BENCH_TMP/tpcc.json
    out=$( { /usr/bin/time -f "cpu %U %S" "$1" --host $HOST --port "$PORT" -u $USER_ --dbname $DB \
        -w tpcc --scale "$SCALE" --workers 8 --connections 8 --threads "$THREADS" \
        -d "${DURATION}s" --warmup 2s --no-summary -q --json "$json" --driver "$2"; } 2>&1 ) || true
    python3 - "$json" "$(awk '/^cpu /{print $2+$3}' <<<"$out")" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except OSError:
    print("n/a n/a"); sys.exit()
no = next(k["committed"] for k in r["transactions"] if k["name"] == "new_order")
tpmc = no / r["measured_s"] * 60
print(f"{tpmc:.0f} {float(sys.argv[2]) * 1e6 / max(no, 1):.0f}")
PY
    rm -f "$json"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

clients=("$SB:wire" "$SB:tokio-postgres")
[[ -z $BEFORE ]] || clients+=("$BEFORE:tokio-postgres")
declare -A TPM CPU
for _ in $(seq "$REPEAT"); do
    for c in "${clients[@]}"; do
        read -r t u <<<"$(run "${c%%:*}" "${c##*:}")"
        TPM[$c]+="$t "
        CPU[$c]+="$u "
    done
done
printf '\n== TPC-C, %s warehouse(s) x 8 terminals, client mode, %ss x %s interleaved runs\n' \
    "$SCALE" "$DURATION" "$REPEAT"
printf '%-40s %10s %16s\n' client "tpmC" "CPU us/New-Order"
for c in "${clients[@]}"; do
    label="stormbench ${c##*:}"
    [[ ${c%%:*} == "$SB" ]] || label="before: stormbench ${c##*:}"
    printf '%-40s %10s %16s\n' "$label" \
        "$(tr ' ' '\n' <<<"${TPM[$c]}" | grep -v '^$' | median)" \
        "$(tr ' ' '\n' <<<"${CPU[$c]}" | grep -v '^$' | median)"
done
