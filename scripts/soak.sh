#!/usr/bin/env bash
# One soak run, for cron or a systemd timer: never two at once (a lock file in the results
# folder), the reports in dated files kept for a number of days, every run recorded in a
# results history, the run compared with a baseline from it, and stormbench's exit code
# passed through, so the scheduler sees whether
# the database met its objectives.
#
#   scripts/soak.sh CONFIG [stormbench arguments...]
#   SOAK_RESULTS=/var/lib/stormbench SOAK_RETENTION_DAYS=90 scripts/soak.sh config/tpcc.yaml -d 1h
#
# Environment:
#   SOAK_RESULTS            results folder (default ./results/soak)
#   SOAK_RETENTION_DAYS     dated files older than this are removed (default 30; 0 keeps all)
#   SOAK_HISTORY            the results history (default RESULTS/history.sqlite; or a
#                           postgres:// URI, its password in ~/.pgpass or PGPASSWORD)
#   SOAK_BASELINE           which run of the history to compare with: last (default: the
#                           newest complete run of the same workload, mode and scale),
#                           last-pass (the newest that met its objectives) or a run number
#   SOAK_FAIL_ON_REGRESSION exit 7 when this run regressed against the baseline beyond this
#                           percentage (e.g. 5%); unset: compare, never fail on it
#   STORMBENCH              the binary (default: stormbench on PATH, else target/release/stormbench)
#
# Exit codes: stormbench's own (0 met, 1 fatal, 2 bad config, 3 nothing succeeded, 4 check
# failed, 5 outage, 6 objective broken, 130 interrupted); 7 a regression against the
# baseline (with SOAK_FAIL_ON_REGRESSION, when the run itself exited 0); 75 another
# soak run still holds the lock (nothing was started); 64 bad usage.
set -euo pipefail

die() {
    printf 'soak.sh: %s\n' "$*" >&2
    exit "${2:-64}"
}

[[ $# -ge 1 ]] || die "usage: scripts/soak.sh CONFIG [stormbench arguments...]"
CONFIG=$1
shift
[[ -f $CONFIG ]] || die "config file $CONFIG not found"

RESULTS=${SOAK_RESULTS:-results/soak}
DAYS=${SOAK_RETENTION_DAYS:-30}
[[ $DAYS =~ ^[0-9]+$ ]] || die "SOAK_RETENTION_DAYS=$DAYS is not a number of days"
SB=${STORMBENCH:-}
if [[ -z $SB ]]; then
    if command -v stormbench >/dev/null 2>&1; then
        SB=stormbench
    else
        SB="$(dirname "${BASH_SOURCE[0]}")/../target/release/stormbench"
    fi
fi
[[ -x $SB ]] || command -v "$SB" >/dev/null 2>&1 || die "stormbench not found at $SB; set STORMBENCH"
command -v flock >/dev/null 2>&1 || die "flock (util-linux) is needed to keep runs from overlapping"

mkdir -p "$RESULTS"
LOCK="$RESULTS/.soak.lock"
exec 9>>"$LOCK"
if ! flock -n 9; then
    die "another soak run holds $LOCK; not starting a second one (the next scheduled run will try again)" 75
fi

HISTORY=${SOAK_HISTORY:-$RESULTS/history.sqlite}
BASELINE=${SOAK_BASELINE:-last}

# dated names only: the retention below removes files of this shape and nothing else
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
JSON="$RESULTS/$STAMP.json"
HTML="$RESULTS/$STAMP.html"
LOG="$RESULTS/$STAMP.log"

set +e
"$SB" --config "$CONFIG" --json "$JSON" --html "$HTML" --history "$HISTORY" -q "$@" >"$LOG" 2>&1
CODE=$?
set -e
cat "$LOG"
printf 'soak.sh: stormbench exited %d; report %s\n' "$CODE" "$JSON"

if [[ -f $JSON ]]; then
    args=(compare --store "$HISTORY" --baseline "$BASELINE" "$JSON")
    [[ -z ${SOAK_FAIL_ON_REGRESSION:-} ]] || args+=(--fail-on-regression "$SOAK_FAIL_ON_REGRESSION")
    set +e
    "$SB" "${args[@]}" 2>&1 | tee -a "$LOG"
    COMPARED=${PIPESTATUS[0]}
    set -e
    if [[ $COMPARED -eq 2 ]]; then
        # the first run of a workload has nothing to compare with: said above, not a failure
        printf 'soak.sh: no comparison (see above)\n' | tee -a "$LOG"
    elif [[ $CODE -eq 0 && $COMPARED -eq 7 ]]; then
        CODE=7
    fi
fi

if ((DAYS > 0)); then
    find "$RESULTS" -maxdepth 1 -type f \
        \( -name '????????T??????Z.json' -o -name '????????T??????Z.html' -o -name '????????T??????Z.log' \) \
        -mtime +"$DAYS" -delete
fi
exit "$CODE"
