#!/usr/bin/env bash
# Haven benchmark: disaster recovery with the sample application (examples/shop) holding 1 GiB of data
# (issue 6). Everything on this machine: `haven server`, agent A (site a) and agent B (site b) as
# processes, the shop's PostgreSQL, app and web run by Haven's drivers on loopback "sites"
# (127.0.12.1, 127.0.22.1; the tests use 127.0.11.x and 127.0.21.x, so both can run at once), BIND 9 for www.shop.test. (bench/DrBench.java; the approach of
# haven-cli's ShopDrIT). It measures:
#   - RTO of a forced failover in continuous mode (BENCH_TRIALS trials) and in as-needed mode, from
#     the run report and as wall time from the CLI command to a client reading through the DNS name;
#   - RPO under a steady write load (a record every 50 ms through the name, rpo 15s): the report's
#     RPO and the records acknowledged but missing at B (rows, and attachment files);
#   - data lost by a planned failover under pgbench load (acknowledged transactions vs rows at B);
#   - peers on the same data: `restic restore` into an empty directory, `pg_basebackup` and the
#     start of the copy.
#
# Usage:  bench/dr.sh [--quick] [--help]
#         --quick: 100 MiB of data, one trial of each
# Env:    BENCH_DIR        work dir (default /var/tmp/haven-bench); the data lives in BENCH_DIR/dr
#         BENCH_DATA_MIB   data size in MiB (default 1024; 100 with --quick)
#         BENCH_DB_SHARE   share of it in PostgreSQL (default 0.5; the rest is attachment files)
#         BENCH_TRIALS     forced failovers in continuous mode (default 3; 1 with --quick)
#         BENCH_SCENARIOS  default "continuous,as-needed,planned,peers"
#         BENCH_KEEP=1     keep each environment's data after it ran (logs are always kept)
#         BENCH_NOTE       a line for the results' header
set -euo pipefail
export LC_ALL=C

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
usage() { sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

QUICK=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument: $arg" >&2; usage >&2; exit 64 ;;
  esac
done

BENCH_DIR="${BENCH_DIR:-/var/tmp/haven-bench}"
if [[ $QUICK == 1 ]]; then
  BENCH_DATA_MIB="${BENCH_DATA_MIB:-100}"
  BENCH_TRIALS="${BENCH_TRIALS:-1}"
else
  BENCH_DATA_MIB="${BENCH_DATA_MIB:-1024}"
  BENCH_TRIALS="${BENCH_TRIALS:-3}"
fi
BENCH_DB_SHARE="${BENCH_DB_SHARE:-0.5}"
BENCH_SCENARIOS="${BENCH_SCENARIOS:-continuous,as-needed,planned,peers}"

# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh"

[[ $(id -u) == 0 ]] || die "needs root: PostgreSQL runs as the postgres user, and the agents start it through runuser"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
missing=()
[[ -n $PG_BIN && -x $PG_BIN/pg_ctl ]] || missing+=(postgresql)
command -v named >/dev/null || missing+=(bind9)
command -v restic >/dev/null || missing+=(restic)
command -v jq >/dev/null || missing+=(jq)
install_missing "${missing[@]}"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"

mkdir -p "$BENCH_DIR"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd)"
LOG_DIR="$BENCH_DIR/logs"; mkdir -p "$LOG_DIR"
WORK="$BENCH_DIR/dr"
mkdir -p "$WORK"

DRIVER_PID=""
# cleanup: the driver, then every process whose command line names the work dir (servers, agents,
# named, the shop's java processes and PostgreSQL clusters, pgbench), each by its pid
cleanup() {
  local pid pids d
  if [[ -n $DRIVER_PID ]] && kill -0 "$DRIVER_PID" 2>/dev/null; then
    kill "$DRIVER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$DRIVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$DRIVER_PID" 2>/dev/null || true
  fi
  for d in $(find "$WORK" -maxdepth 5 -name postmaster.pid -printf '%h\n' 2>/dev/null); do
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1 || true
  done
  pids=()
  for pid in /proc/[0-9]*; do
    pid=${pid#/proc/}
    [[ $pid == "$$" ]] && continue
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$WORK"; then pids+=("$pid"); fi
  done
  for pid in ${pids[@]+"${pids[@]}"}; do kill -9 "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

log "building the distribution if needed ('haven --version', not timed)"
run_quiet "haven --version" "$LOG_DIR/haven-version.log" "$REPO_ROOT/haven" --version
HAVEN_VERSION="$(grep -v '^[[:space:]]*$' "$LOG_DIR/haven-version.log" | head -n1 || true)"
DIST="$REPO_ROOT/haven-cli/target/haven"
# shellcheck source=haven-cli/src/dist/bin/find-java.sh
. "$DIST/bin/find-java.sh"
haven_find_java || die "no JDK >= 21"
JAVA="$HAVEN_JAVA_HOME/bin/java"
JAVA_VERSION="$("$JAVA" -version 2>&1 | head -n1)"
export HAVEN_CACHE_DIR="$BENCH_DIR/haven-jvm-cache"
COMMIT="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -z $(git -C "$REPO_ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]] || COMMIT="$COMMIT (with uncommitted changes)"
bench_host_info
DISK="$(df -PT "$BENCH_DIR" | awk 'NR==2 {print $2 " on " $1}')"
log "work dir $WORK ($DISK); data ${BENCH_DATA_MIB} MiB, db share $BENCH_DB_SHARE; scenarios $BENCH_SCENARIOS"

suffix=""; [[ $QUICK == 1 ]] && suffix="-quick"
mkdir -p "$SCRIPT_DIR/results"
OUT_MD="$SCRIPT_DIR/results/dr-$DATE_TAG$suffix.md"
OUT_JSON="$SCRIPT_DIR/results/dr-$DATE_TAG$suffix.json"
"$JAVA" -XX:+UseSerialGC -Xmx512m -Dstdout.encoding=UTF-8 -Dstderr.encoding=UTF-8 -cp "$DIST/lib/*" "$SCRIPT_DIR/DrBench.java" \
  --haven "$DIST/bin/haven" --work "$WORK" --shop "$REPO_ROOT/examples/shop" --pg-bin "$PG_BIN" \
  --data-mib "$BENCH_DATA_MIB" --db-share "$BENCH_DB_SHARE" --trials "$BENCH_TRIALS" --scenarios "$BENCH_SCENARIOS" \
  --out-json "$WORK/result.json" --out-md "$WORK/result.md" 2> >(tee "$LOG_DIR/dr-driver.log" >&2) &
DRIVER_PID=$!
wait "$DRIVER_PID" || die "the driver failed; see $LOG_DIR/dr-driver.log and $WORK/*/logs"
DRIVER_PID=""

{
  echo "# Haven DR benchmark$([[ $QUICK == 1 ]] && echo " (quick)")"
  echo
  echo "- Date: $DATE_ISO; commit $COMMIT; $HAVEN_VERSION"
  [[ -n ${BENCH_NOTE:-} ]] && echo "- Note: $BENCH_NOTE"
  echo "- Host: nproc=$NPROC, CPU: $CPU_MODEL, RAM: $MEM_MIB MiB, kernel $KERNEL, disk: $DISK; Java: $JAVA_VERSION; $("$PG_BIN/postgres" --version); $(restic version | head -n1)"
  echo "- Data at site A: ${BENCH_DATA_MIB} MiB, $(awk -v s="$BENCH_DB_SHARE" 'BEGIN {printf "%d", s*100}') % in PostgreSQL (table \`bulk\`, ~1 KB rows of hex text) and the rest as 1 MiB random files in the app's data volume"
  echo "- Haven: \`haven server\` with its default settings (heartbeat 15 s, scheduler tick 5 s), two agents, a local repository; plan examples/shop/shop-plan.yaml.template with rpo 15s"
  echo "- Forced: a writer posts a record through www.shop.test. every 50 ms; 20–40 s in, site A is lost (agent A and its db, app, web SIGKILLed); then \`haven failover shop --forced --yes\`. Planned: pgbench, 4 clients, one INSERT per transaction, against site A's database during \`haven failover shop --planned\`"
  echo "- RTO (report): run start → all probes green. CLI → client OK: from the CLI command to a client that resolves the name at the DNS server (no cache) and reads a record from B. rows lost: acknowledged records missing from B's database; attachments lost: their files missing from B's app volume (in brackets: how long before the loss the oldest of them was acknowledged)"
  echo
  cat "$WORK/result.md"
} >"$OUT_MD"
cp "$WORK/result.json" "$OUT_JSON"
echo
cat "$OUT_MD"
echo
echo "Results written to: $OUT_MD"
echo "                    $OUT_JSON"
