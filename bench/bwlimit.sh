#!/usr/bin/env bash
# Haven benchmark: does 'haven cache sync --bwlimit RATE' hold its rate over a minute or more?
#
# Usage:  bench/bwlimit.sh [--help]
# Env:    BENCH_DIR        work dir (default /var/tmp/haven-bench)
#         BENCH_BW_RATE    the limit (default 20MiB/s)
#         BENCH_BW_MIB     MiB of incompressible data to upload (default 1400: 70 s at 20 MiB/s)
#         HAVEN            Haven command (default: <repo>/haven)
#
# Backs up random data into a site cache, syncs it once without a limit (to show what the disk
# can do) and once with the limit, to fresh main repositories on the same disk. While the
# limited sync runs, it samples the main repository's size every 5 s. Reports the average rate
# (bytes uploaded / seconds, from Haven's --json), the rate of every 10 s window, and whether
# the average is within 10 % of the limit. See bench/README.md.
set -euo pipefail
export LC_ALL=C

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
for arg in "$@"; do
  case "$arg" in
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument: $arg" >&2; usage >&2; exit 64 ;;
  esac
done

BENCH_DIR="${BENCH_DIR:-/var/tmp/haven-bench}"
BENCH_BW_RATE="${BENCH_BW_RATE:-20MiB/s}"
BENCH_BW_MIB="${BENCH_BW_MIB:-1400}"
HAVEN_DEFAULT=0
[[ -z ${HAVEN:-} ]] && HAVEN_DEFAULT=1
HAVEN="${HAVEN:-$REPO_ROOT/haven}"
PASSWORD="haven-bench-password"
BENCH_TOOLS="haven"

# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh"
has_tool() { [[ $1 == haven ]]; }
[[ $BENCH_BW_MIB =~ ^[1-9][0-9]*$ ]] || die "BENCH_BW_MIB must be a positive number of MiB"
command -v python3 >/dev/null || die "python3 is needed to read Haven's --json output"

mkdir -p "$BENCH_DIR"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd)"
LOG_DIR="$BENCH_DIR/logs"; mkdir -p "$LOG_DIR"
WORK="$BENCH_DIR/bwlimit-work"
rm -rf "$WORK"; mkdir -p "$WORK"
cleanup() { rm -rf "$WORK" 2>/dev/null || true; }
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

bench_host_info
declare -A VERSION
haven_prepare "$REPO_ROOT/docs"

rate_bytes=$(python3 -c '
import re, sys
m = re.fullmatch(r"([0-9.]+)\s*([kKmMgG]?)(?:i?[bB])?(?:/s)?", sys.argv[1])
if not m: sys.exit("BENCH_BW_RATE: cannot read " + sys.argv[1])
print(int(float(m.group(1)) * 1024 ** " kmg".index((m.group(2) or " ").lower())))' "$BENCH_BW_RATE")

SRC="$WORK/src"; mkdir -p "$SRC"
log "writing $BENCH_BW_MIB MiB of random data (untimed)"
for ((i = 0; i < (BENCH_BW_MIB + 99) / 100; i++)); do
  n=$(( BENCH_BW_MIB - i * 100 )); (( n > 100 )) && n=100
  head -c $(( n * 1048576 )) /dev/urandom >"$SRC/random-$i.bin"
done

HV=(env HAVEN_PASSWORD="$PASSWORD" XDG_CACHE_HOME="$WORK/xdg" "${HAVEN_CMD[@]}")
run_quiet "init main" "$LOG_DIR/bw-init.log" "${HV[@]}" --repo "$WORK/main-unlimited" init
run_quiet "cache init" "$LOG_DIR/bw-cache-init.log" "${HV[@]}" cache init --for "$WORK/main-unlimited" "$WORK/cache"
log "backing up into the cache (untimed)"
run_quiet "backup" "$LOG_DIR/bw-backup.log" "${HV[@]}" --repo "$WORK/cache" backup "$SRC"

json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

log "sync without a limit"
run_timed "cache sync (no limit)" "$LOG_DIR/bw-sync-unlimited.json" "${HV[@]}" --json --repo "$WORK/cache" cache sync
UNLIM_BYTES=$(json_field "$LOG_DIR/bw-sync-unlimited.json" bytes_uploaded)
UNLIM_S=$(json_field "$LOG_DIR/bw-sync-unlimited.json" seconds)

# a second main repository with the same keys: copy config and keys, point the cache at it,
# and forget what the cache synced, so the limited sync uploads everything again
mkdir -p "$WORK/main-limited"
cp -a "$WORK/main-unlimited/config" "$WORK/main-unlimited/keys" "$WORK/main-limited/"
python3 - "$WORK/cache/cache.json" "$WORK/main-limited" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1])); c["main"] = sys.argv[2]; json.dump(c, open(sys.argv[1], "w"))
EOF
rm -f "$WORK/cache/sync-state"

log "sync with --bwlimit $BENCH_BW_RATE, sampling the main repository every 5 s"
SAMPLES="$WORK/samples.txt"; : >"$SAMPLES"
( while sleep 5; do printf '%s %s\n' "$(uptime_s)" "$(du -sb "$WORK/main-limited" | cut -f1)" >>"$SAMPLES"; done ) &
SAMPLER=$!
run_timed "cache sync --bwlimit $BENCH_BW_RATE" "$LOG_DIR/bw-sync-limited.json" "${HV[@]}" --json --repo "$WORK/cache" cache sync --bwlimit "$BENCH_BW_RATE"
kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true
LIM_BYTES=$(json_field "$LOG_DIR/bw-sync-limited.json" bytes_uploaded)
LIM_S=$(json_field "$LOG_DIR/bw-sync-limited.json" seconds)
LIM_RATE=$(awk -v b="$LIM_BYTES" -v s="$LIM_S" 'BEGIN {printf "%.0f", b / s}')
DEV=$(awk -v r="$LIM_RATE" -v t="$rate_bytes" 'BEGIN {printf "%.1f", (r - t) * 100 / t}')
OK=$(awk -v d="$DEV" 'BEGIN {print (d <= 10 && d >= -10) ? "PASS" : "FAIL"}')
WINDOWS=$(awk 'NR > 1 && NR % 2 == 1 {printf "%.1f ", ($2 - pb) / ($1 - pt) / 1048576} NR % 2 == 1 {pt = $1; pb = $2}' "$SAMPLES")

mkdir -p "$SCRIPT_DIR/results"
OUT_MD="$SCRIPT_DIR/results/bwlimit-$DATE_TAG.md"
{
  echo "# Haven cache sync bandwidth limit"
  echo
  echo "- Date: $DATE_ISO"
  echo "- Host: nproc=$NPROC, CPU: $CPU_MODEL, RAM: $MEM_MIB MiB, kernel $KERNEL, disk $FS_TYPE"
  echo "- Data: $BENCH_BW_MIB MiB from /dev/urandom, backed up into a site cache, synced to a main repository on the same disk"
  echo "- haven: ${VERSION[haven]}"
  echo
  echo "| sync | bytes uploaded | seconds | average rate MiB/s |"
  echo "|---|---:|---:|---:|"
  printf '| no limit | %s | %s | %s |\n' "$UNLIM_BYTES" "$UNLIM_S" "$(awk -v b="$UNLIM_BYTES" -v s="$UNLIM_S" 'BEGIN {printf "%.1f", b / s / 1048576}')"
  printf '| --bwlimit %s | %s | %s | %s |\n' "$BENCH_BW_RATE" "$LIM_BYTES" "$LIM_S" "$(awk -v r="$LIM_RATE" 'BEGIN {printf "%.2f", r / 1048576}')"
  echo
  echo "Limit $(awk -v t="$rate_bytes" 'BEGIN {printf "%.2f", t / 1048576}') MiB/s; average over the whole sync ${DEV} % from it: **$OK** (target: within 10 % over at least a minute)."
  echo
  echo "Rate in each 10 s window (MiB/s, from the main repository's size on disk): $WINDOWS"
} >"$OUT_MD"
echo; cat "$OUT_MD"; echo; echo "Results written to: $OUT_MD"
[[ $OK == PASS ]] || exit 2
