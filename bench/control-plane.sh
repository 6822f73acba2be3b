#!/usr/bin/env bash
# Haven benchmark: how many agents and jobs one server handles. A real `haven server` (default
# settings: heartbeat 15 s) and, on the same machine, 1,000 simulated agents with real enrolments
# and mutual TLS that heart-beat and long-poll as the real agent does, 100 jobs kept running, and a
# user API client whose latency is measured (bench/ControlPlaneLoad.java).
#
# Usage:  bench/control-plane.sh [--quick] [--help]
#         --quick: a 30 s window after a 30 s warm-up, embedded SQLite only
# Env:    BENCH_DIR        work dir (default /var/tmp/haven-bench)
#         BENCH_AGENTS     simulated agents (default 1000)
#         BENCH_JOBS       jobs kept queued or running (default 100)
#         BENCH_SECONDS    measured period in seconds (default 120; 30 with --quick)
#         BENCH_WARMUP     warm-up before it (default 45; 30 with --quick)
#         BENCH_API_RATE   user API reads per second (default 20)
#         BENCH_GROUPS     pool groups the agents are split into (default 10), 10 pooled workloads each
#         BENCH_DBS        "sqlite pg" (default; pg needs root and /usr/lib/postgresql/*, else it is skipped);
#                          "sqlite" with --quick
#         BENCH_THREAD_DUMPS=1  three jcmd Thread.print of the server in the middle of the window
#         HAVEN_HEAP       the server's heap (default: the launcher's, 256m)
#         BENCH_NOTE       a line for the results' header (what was measured, e.g. which server code)
#
# See bench/README.md for details.
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
BENCH_AGENTS="${BENCH_AGENTS:-1000}"
BENCH_JOBS="${BENCH_JOBS:-100}"
BENCH_API_RATE="${BENCH_API_RATE:-20}"
BENCH_GROUPS="${BENCH_GROUPS:-10}"
if [[ $QUICK == 1 ]]; then
  BENCH_SECONDS="${BENCH_SECONDS:-30}"
  BENCH_WARMUP="${BENCH_WARMUP:-30}"
  BENCH_DBS="${BENCH_DBS:-sqlite}"
else
  BENCH_SECONDS="${BENCH_SECONDS:-120}"
  BENCH_WARMUP="${BENCH_WARMUP:-45}"
  BENCH_DBS="${BENCH_DBS:-sqlite pg}"
fi
ADMIN_PW="haven-bench-admin-password"

# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh"

for d in $BENCH_DBS; do [[ $d == sqlite || $d == pg ]] || die "BENCH_DBS: unknown database '$d' (allowed: sqlite pg)"; done
command -v jq >/dev/null || install_missing jq

mkdir -p "$BENCH_DIR"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd)"
LOG_DIR="$BENCH_DIR/logs"; mkdir -p "$LOG_DIR"
WORK="$BENCH_DIR/control-plane"
rm -rf "$WORK"; mkdir -p "$WORK"

SERVER_PID=""
PG_DATA=""
PG_BIN=""
server_stop() {
  [[ -n $SERVER_PID ]] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
pg_stop() {
  [[ -n $PG_DATA ]] || return 0
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA/db" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DATA"
  PG_DATA=""
}
cleanup() { server_stop; pg_stop; rm -rf "$WORK" 2>/dev/null || true; }
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

# --------------------------------------------------------------- Haven ---
log "building the distribution if needed ('haven --version', not timed)"
run_quiet "haven --version" "$LOG_DIR/haven-version.log" "$REPO_ROOT/haven" --version
HAVEN_VERSION="$(grep -v '^[[:space:]]*$' "$LOG_DIR/haven-version.log" | head -n1 || true)"
DIST="$REPO_ROOT/haven-cli/target/haven"
HAVEN_BIN="$DIST/bin/haven"
# shellcheck source=haven-cli/src/dist/bin/find-java.sh
. "$DIST/bin/find-java.sh"
haven_find_java || die "no JDK >= 21"
JAVA="$HAVEN_JAVA_HOME/bin/java"
JAVA_VERSION="$("$JAVA" -version 2>&1 | head -n1)"
export HAVEN_CACHE_DIR="$BENCH_DIR/haven-jvm-cache"
COMMIT="$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -z $(git -C "$REPO_ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]] || COMMIT="$COMMIT (with uncommitted changes)"

pg_usable() { [[ $(id -u) == 0 ]] && compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null && id postgres >/dev/null 2>&1; }

# pg_start: the machine's PostgreSQL on 127.0.0.1 and a free port, as the postgres user, in a fresh
# cluster with the default settings (fsync on) but max_connections=200. Sets PG_URL, PG_PID.
pg_start() {
  local port i
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
  PG_DATA="$(mktemp -d /tmp/haven-bench-pg.XXXXXX)"
  chown postgres "$PG_DATA"
  run_quiet "initdb" "$LOG_DIR/cp-pg-initdb.log" runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA/db" -U haven --auth=trust -E UTF8
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA/db" -l "$PG_DATA/log.txt" -w \
    -o "-p $port -h 127.0.0.1 -k $PG_DATA -c max_connections=200" start >"$LOG_DIR/cp-pg-start.log" 2>&1 \
    || { cat "$PG_DATA/log.txt" >&2 || true; die "PostgreSQL did not start"; }
  PG_PID="$(head -n1 "$PG_DATA/db/postmaster.pid")"
  PG_URL="jdbc:postgresql://127.0.0.1:$port/postgres"
  PG_VERSION="$("$PG_BIN/postgres" --version)"
  log "PostgreSQL ($PG_VERSION) on 127.0.0.1:$port, postmaster pid $PG_PID"
}

# server_start DB: `haven server --config` with the defaults (heartbeat 15 s) on 127.0.0.1 and a free port.
# Sets SERVER_PID, SERVER_URL, SERVER_CA.
server_start() {
  local db=$1 dir="$WORK/$1" cfg out i
  mkdir -p "$dir"
  cfg="$dir/server.yaml"
  {
    echo "listen: 127.0.0.1:0"
    echo "data: $dir/server"
    [[ $db == pg ]] && echo "db: $PG_URL"
  } >"$cfg"
  out="$LOG_DIR/cp-$db-server.log"
  rm -f "$out" "$out.stderr"
  rm -f "$LOG_DIR/cp-$db-gc.log"
  # the server's GC pauses go to a log the generator reads for the window
  HAVEN_ADMIN_PASSWORD="$ADMIN_PW" HAVEN_DB_USER=haven HAVEN_JAVA_OPTS="${HAVEN_JAVA_OPTS:-} -Xlog:gc:file=$LOG_DIR/cp-$db-gc.log" \
    "$HAVEN_BIN" --json server --config "$cfg" >"$out" 2>"$out.stderr" &
  SERVER_PID=$!
  for ((i = 0; i < 600; i++)); do
    grep -q "\"url\"" "$out" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 30 "$out.stderr" >&2; die "haven server exited"; }
    sleep 0.1
  done
  grep -q "\"url\"" "$out" || die "haven server did not start within 60 s (see $out.stderr)"
  SERVER_URL="$(head -n1 "$out" | jq -r .url)"
  SERVER_CA="$(head -n1 "$out" | jq -r .caCertificate)"
  log "haven server ($db) at $SERVER_URL, pid $SERVER_PID"
}

# busy_cores SECONDS: CPU cores in use on the whole machine over a few seconds (from /proc/stat)
busy_cores() {
  local a b
  a=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
  sleep "$1"
  b=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
  awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN {split(a, x, " "); split(b, y, " "); printf "%.2f", (y[1]-x[1]) / (y[2]-x[2]) * n}'
}

bench_host_info
IDLE_BEFORE="$(busy_cores 5)"
if awk -v b="$IDLE_BEFORE" 'BEGIN {exit !(b > 0.3)}'; then
  log "!!! the machine is busy before the run ($IDLE_BEFORE cores in use): the latencies will be worse than on a quiet machine"
fi
declare -A RESULT_MD RESULT_JSON DB_LABEL
RAN=()
for db in $BENCH_DBS; do
  if [[ $db == pg ]]; then
    if ! pg_usable; then
      log "skipping PostgreSQL: needs root, the postgres user and /usr/lib/postgresql/*/bin/postgres"
      continue
    fi
    pg_start
    DB_LABEL[$db]="PostgreSQL ($PG_VERSION, fresh cluster on 127.0.0.1, default settings but max_connections=200)"
  else
    DB_LABEL[$db]="embedded SQLite (the default)"
  fi
  log "== $db: ${DB_LABEL[$db]} =="
  server_start "$db"
  extra=()
  [[ $db == pg ]] && extra+=(--db-pid "$PG_PID")
  [[ ${BENCH_THREAD_DUMPS:-0} == 1 ]] && extra+=(--thread-dumps "$LOG_DIR/cp-$db-threads")
  RESULT_MD[$db]="$WORK/$db/result.md"
  RESULT_JSON[$db]="$WORK/$db/result.json"
  # the generator: Java's source launcher with the distribution's classpath (Haven's protocol
  # records, Jackson, the agent's Identity)
  if ! "$JAVA" -XX:+UseSerialGC -Xmx1g -Dstdout.encoding=UTF-8 -Dstderr.encoding=UTF-8 -cp "$DIST/lib/*" "$SCRIPT_DIR/ControlPlaneLoad.java" \
      --server "$SERVER_URL" --ca "$SERVER_CA" --password "$ADMIN_PW" --server-pid "$SERVER_PID" \
      --agents "$BENCH_AGENTS" --jobs "$BENCH_JOBS" --seconds "$BENCH_SECONDS" --warmup "$BENCH_WARMUP" \
      --api-rate "$BENCH_API_RATE" --groups "$BENCH_GROUPS" --repo-dir "$WORK/$db/repo" --clk-tck "$(getconf CLK_TCK)" \
      --out-json "${RESULT_JSON[$db]}" --out-md "${RESULT_MD[$db]}" --gc-log "$LOG_DIR/cp-$db-gc.log" ${extra[@]+"${extra[@]}"} \
      >"$LOG_DIR/cp-$db-load.log" 2>"$LOG_DIR/cp-$db-load.stderr"; then
    tail -n 30 "$LOG_DIR/cp-$db-load.stderr" >&2
    die "the load generator failed ($db); see $LOG_DIR/cp-$db-load.stderr and $LOG_DIR/cp-$db-server.log.stderr"
  fi
  server_stop
  [[ $db == pg ]] && pg_stop
  RAN+=("$db")
done
(( ${#RAN[@]} )) || die "nothing ran"

# ------------------------------------------------------------------ report ---
mkdir -p "$SCRIPT_DIR/results"
suffix=""; [[ $QUICK == 1 ]] && suffix="-quick"
OUT_MD="$SCRIPT_DIR/results/control-plane-$DATE_TAG$suffix.md"
OUT_JSON="$SCRIPT_DIR/results/control-plane-$DATE_TAG$suffix.json"
{
  echo "# Haven control-plane benchmark$([[ $QUICK == 1 ]] && echo " (quick)")"
  echo
  echo "- Date: $DATE_ISO; commit $COMMIT; $HAVEN_VERSION"
  [[ -n ${BENCH_NOTE:-} ]] && echo "- Note: $BENCH_NOTE"
  echo "- Host: nproc=$NPROC, CPU: $CPU_MODEL, RAM: $MEM_MIB MiB, kernel $KERNEL; Java: $JAVA_VERSION; $IDLE_BEFORE cores in use by other processes just before the run"
  echo "- Server: \`haven server --config\` with the default timings (heartbeat 15 s, scheduler tick 5 s), heap $([[ -n ${HAVEN_HEAP:-} ]] && echo "$HAVEN_HEAP (HAVEN_HEAP)" || echo "256m (the launcher's default)"), on 127.0.0.1"
  echo "- Load (bench/ControlPlaneLoad.java, same machine): $BENCH_AGENTS agents (real enrolments, own keys and client certificates, mutual TLS) in $BENCH_GROUPS pool groups; each heart-beats every 15 s (phases spread evenly) and long-polls for tasks (wait=25, 2 slots); $BENCH_JOBS backup-now jobs kept queued or running on $(( BENCH_GROUPS * 10 )) pooled workloads, each reporting progress every 2 s and finishing after 10–30 s; user API reads at $BENCH_API_RATE/s, open-loop"
  echo "- Warm-up ${BENCH_WARMUP} s, then a ${BENCH_SECONDS} s measured window; latencies are client-side (request sent → response read) for calls started in the window; the server column is from the server's own histograms (/metrics) over the same window"
  for db in "${RAN[@]}"; do
    echo
    echo "## ${DB_LABEL[$db]}"
    echo
    cat "${RESULT_MD[$db]}"
  done
  if (( ${#CLOCK_WARNINGS[@]} )); then
    echo; echo "**CLOCK WARNINGS:**"; for v in "${CLOCK_WARNINGS[@]}"; do echo "- $v"; done
  fi
} >"$OUT_MD"
{
  runs="{}"
  for db in "${RAN[@]}"; do
    runs="$(jq --arg db "$db" --arg lbl "${DB_LABEL[$db]}" --slurpfile r "${RESULT_JSON[$db]}" \
      '. + {($db): ($r[0] + {database: $lbl})}' <<<"$runs")"
  done
  jq -n --arg date "$DATE_ISO" --arg commit "$COMMIT" --arg haven "$HAVEN_VERSION" --arg java "$JAVA_VERSION" \
    --argjson nproc "$NPROC" --arg cpu "$CPU_MODEL" --argjson mem "$MEM_MIB" --arg kernel "$KERNEL" \
    --argjson quick "$([[ $QUICK == 1 ]] && echo true || echo false)" --argjson runs "$runs" --argjson busy "$IDLE_BEFORE" \
    '{benchmark: "control-plane", date: $date, commit: $commit, haven: $haven, java: $java, quick: $quick,
      host: {nproc: $nproc, cpu: $cpu, mem_mib: $mem, kernel: $kernel, busy_cores_before: $busy}, runs: $runs}'
} >"$OUT_JSON"

echo
cat "$OUT_MD"
echo
echo "Results written to: $OUT_MD"
echo "                    $OUT_JSON"
