# Shared helpers for Haven's benchmark scripts (sourced, not run).
# The caller sets BENCH_DIR, LOG_DIR and REPO_ROOT before calling the functions below.

log()  { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die()  { printf '\nerror: %s\n' "$*" >&2; exit 1; }

# JSON string escaping (backslash, quote, control characters).
json_str() {
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}; s=${s//$'\r'/\\r}; s=${s//$'\t'/\\t}
  s=$(printf '%s' "$s" | tr -d '\000-\037')
  printf '"%s"' "$s"
}
json_num() { if [[ -n ${1:-} ]]; then printf '%s' "$1"; else printf 'null'; fi; }
json_arr() { local IFS=,; printf '[%s]' "$*"; }

# median of numeric args (mean of the two middle values for even counts)
median() {
  (( $# > 0 )) || { echo ""; return; }
  printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {
    if (NR % 2) printf "%.2f\n", a[(NR+1)/2];
    else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2 }'
}

# settle: waits (untimed, at most 120 s) until the machine is idle: sync, then until a whole
# second passes with the CPUs at least 95 % idle and no disk I/O in flight. After a restore's
# tree is deleted, ext4 (here mounted with `discard`) and writeback keep a core busy for many
# seconds; a tool timed in that time is slowed by them, and which tool that is depended on the
# order of the runs.
settle() {
  local t0 i0 t1 i1 waited=0 _ u n s idle iow irq sirq steal busy
  sync
  while (( waited < 120 )); do
    read -r _ u n s idle iow irq sirq steal _ </proc/stat; t0=$((u + n + s + idle + iow + irq + sirq + steal)); i0=$idle
    sleep 1; waited=$((waited + 1))
    read -r _ u n s idle iow irq sirq steal _ </proc/stat; t1=$((u + n + s + idle + iow + irq + sirq + steal)); i1=$idle
    busy=$(awk '{s += $9} END {print s + 0}' /sys/block/*/stat 2>/dev/null || echo 0)
    (( t1 > t0 && (i1 - i0) * 100 >= 95 * (t1 - t0) && busy == 0 )) && return 0
  done
  log "  (the machine did not become idle within 120 s; going on)"
}

uptime_s() { local u _; read -r u _ </proc/uptime; printf '%s' "$u"; }

# run_timed LABEL LOGFILE CMD...   -> sets T_WALL (s), T_RSS (KiB), T_CPU (user+sys s)
# stdout goes to LOGFILE, stderr to LOGFILE.stderr. Dies with the tail of both
# if the command fails.
# Wall time is taken from /proc/uptime (CLOCK_BOOTTIME, immune to wall-clock
# steps); GNU time's %e (gettimeofday) is cross-checked and a divergence, e.g.
# from an NTP step or a VM pause, is reported loudly.
CLOCK_WARNINGS=()
run_timed() {
  local label=$1 logf=$2; shift 2
  local tf u0 u1 e user sys
  tf=$(mktemp "$BENCH_DIR/.time.XXXXXX")
  sync   # don't let writeback of the previous step leak into this timing
  u0=$(uptime_s)
  if ! /usr/bin/time -f '%e %M %U %S' -o "$tf" "$@" >"$logf" 2>"$logf.stderr"; then
    echo >&2
    echo "error: $label failed: $*" >&2
    echo "---- last 30 lines of $logf (stdout) ----" >&2
    tail -n 30 "$logf" >&2 || true
    echo "---- last 30 lines of $logf.stderr ----" >&2
    tail -n 30 "$logf.stderr" >&2 || true
    rm -f "$tf"
    exit 1
  fi
  u1=$(uptime_s)
  # GNU time may prepend "Command exited..." lines; the last line is ours.
  read -r e T_RSS user sys < <(tail -n 1 "$tf")
  rm -f "$tf"
  T_WALL=$(awk -v a="$u0" -v b="$u1" 'BEGIN {printf "%.2f", b - a}')
  T_CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}')
  if awk -v m="$T_WALL" -v e="$e" 'BEGIN {d = m - e; if (d < 0) d = -d; exit !(d > 1 && d > 0.05 * m)}'; then
    echo "!!! CLOCK WARNING: $label: /proc/uptime says ${T_WALL}s but gettimeofday says ${e}s (clock step or VM pause?) — using ${T_WALL}s" >&2
    CLOCK_WARNINGS+=("$label: uptime ${T_WALL}s vs gettimeofday ${e}s")
  fi
  log "  $label: ${T_WALL}s wall, ${T_CPU}s cpu, max RSS $((T_RSS / 1024)) MiB"
}

# run_quiet LABEL LOGFILE CMD...   untimed, dies on failure
# (stdout to LOGFILE, stderr to LOGFILE.stderr)
run_quiet() {
  local label=$1 logf=$2; shift 2
  if ! "$@" >"$logf" 2>"$logf.stderr"; then
    echo >&2
    echo "error: $label failed: $*" >&2
    echo "---- last 30 lines of $logf (stdout) ----" >&2
    tail -n 30 "$logf" >&2 || true
    echo "---- last 30 lines of $logf.stderr ----" >&2
    tail -n 30 "$logf.stderr" >&2 || true
    exit 1
  fi
}

# count of non-directory entries and total bytes of regular files
tree_stats() {
  find "$1" -not -type d -printf '%y %s\n' |
    awk '{n++; if ($1 == "f") b += $2} END {printf "%d %d\n", n, b}'
}


mib() { [[ -n ${1:-} ]] && awk -v b="$1" 'BEGIN {printf "%.1f", b/1048576}'; }
kib2mib() { [[ -n ${1:-} ]] && awk -v k="$1" 'BEGIN {printf "%.0f", k/1024}'; }
div()  { [[ -n ${1:-} && -n ${2:-} ]] && awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a/b}'; }

# install_missing PKG…: apt-get installs the packages given (as root, or through sudo); none: nothing.
install_missing() {
  (( $# )) || return 0
  local sudo=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || die "need root (or sudo) to install: $*"
    sudo=(sudo)
  fi
  log "installing: $*"
  "${sudo[@]}" apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$@" || die "apt-get install $* failed"
}

# kernel_tree: extracts /usr/src/linux-source-6.1.tar.xz to $BENCH_DIR/linux-source-6.1 once (a marker
# file records a complete extraction) and prints the tree's path.
KERNEL_TARBALL=/usr/src/linux-source-6.1.tar.xz
KERNEL_NAME=linux-source-6.1
kernel_tree() {
  local tree="$BENCH_DIR/$KERNEL_NAME" marker="$BENCH_DIR/.$KERNEL_NAME.extracted"
  if [[ ! -f $marker || ! -d $tree ]]; then
    log "extracting $KERNEL_TARBALL to $tree (once)"
    rm -rf "$tree" "$BENCH_DIR/.extract"
    mkdir -p "$BENCH_DIR/.extract"
    tar -C "$BENCH_DIR/.extract" -xJf "$KERNEL_TARBALL" || die "extracting $KERNEL_TARBALL failed"
    mv "$BENCH_DIR/.extract/$KERNEL_NAME" "$tree"
    rmdir "$BENCH_DIR/.extract"
    touch "$marker"
  fi
  printf '%s' "$tree"
}

# kernel_needed: whether the kernel source package must be installed (no BENCH_SRC, no tarball, no extracted tree)
kernel_needed() {
  [[ -z ${BENCH_SRC:-} && ! -f $KERNEL_TARBALL && ! -f $BENCH_DIR/.$KERNEL_NAME.extracted ]]
}

# bench_host_info: sets DATE_ISO DATE_TAG NPROC CPU_MODEL KERNEL MEM_MIB FS_TYPE
bench_host_info() {
  DATE_ISO="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  DATE_TAG="$(date -u +%Y%m%d-%H%M%S)"
  NPROC="$(nproc)"
  CPU_MODEL="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
  [[ -n $CPU_MODEL ]] || CPU_MODEL="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n1)"
  KERNEL="$(uname -sr)"
  MEM_MIB="$(awk '/^MemTotal:/ {printf "%d", $2/1024}' /proc/meminfo)"
  FS_TYPE="$(df -PT "$BENCH_DIR" | awk 'NR==2 {print $2 " on " $1}')"
}

# haven_prepare WARM_SRC: resolves $HAVEN (default <repo>/haven) into HAVEN_CMD, builds Haven
# once (untimed), switches to the built distribution when HAVEN was not set, sets
# VERSION[haven], and warms Haven's JVM start-up cache on WARM_SRC (untimed).
# Needs: declare -A VERSION; HAVEN_DEFAULT=1 when HAVEN was not set by the user.
haven_prepare() {
  local warm_src=$1 warm_repo
  read -r -a HAVEN_CMD <<<"$HAVEN"
  [[ ${#HAVEN_CMD[@]} -gt 0 ]] || die "HAVEN is empty"
  if [[ ${HAVEN_CMD[0]} == */* ]]; then
    [[ -x ${HAVEN_CMD[0]} ]] || die "Haven not found or not executable: ${HAVEN_CMD[0]} (set HAVEN=..., or leave haven out of BENCH_TOOLS)"
  else
    command -v "${HAVEN_CMD[0]}" >/dev/null || die "Haven command not found: ${HAVEN_CMD[0]}"
  fi
  log "running '$HAVEN --version' once (builds Haven if needed; not timed)"
  run_quiet "haven --version" "$LOG_DIR/haven-version.log" "${HAVEN_CMD[@]}" --version
  VERSION[haven]="$(grep -v '^[[:space:]]*$' "$LOG_DIR/haven-version.log" | head -n1 || true)"
  # The repo-root wrapper re-checks (and may rebuild) the sources on every call.
  # Time the built distribution directly so no build check or rebuild (e.g.
  # because someone edited a source file meanwhile) lands inside a timing.
  if [[ ${HAVEN_DEFAULT:-0} == 1 && -x $REPO_ROOT/haven-cli/target/haven/bin/haven ]]; then
    HAVEN_CMD=("$REPO_ROOT/haven-cli/target/haven/bin/haven")
    log "timing the built distribution directly: ${HAVEN_CMD[0]}"
  fi
  # Haven keeps a JVM start-up cache per machine (~/.cache/haven; see docs/decisions.md):
  # the first backup records it and the next command assembles it. Do both here, untimed,
  # on a small tree, so every timed run sees the state a user has after their first backup.
  # The runs get fresh per-tool caches (XDG_CACHE_HOME) because restic's and borg's
  # caches are per repository; Haven's JVM cache is per installation, so it lives apart.
  # With S3 repositories (S3_ENDPOINT set by s3_server_start), the warm-up backs up to S3, so that
  # the cache holds the AWS SDK's classes as it does for a user whose backups go to S3.
  if [[ -n ${S3_ENDPOINT:-} ]]; then
    export HAVEN_CACHE_DIR="$BENCH_DIR/haven-jvm-cache-s3"
    warm_repo="s3:$S3_ENDPOINT/$S3_BUCKET/warmup-$$"
  else
    export HAVEN_CACHE_DIR="$BENCH_DIR/haven-jvm-cache"
    warm_repo="$BENCH_DIR/haven-warmup-repo"
    rm -rf "$warm_repo"
  fi
  [[ -d ${BENCH_WARMUP_SRC:-} ]] && warm_src=$BENCH_WARMUP_SRC
  log "warming Haven's start-up cache (untimed: init, backup and list of a small tree)"
  run_quiet "haven warm-up init" "$LOG_DIR/haven-warmup.log" env HAVEN_REPO="$warm_repo" HAVEN_PASSWORD=warmup "${HAVEN_CMD[@]}" init
  run_quiet "haven warm-up backup" "$LOG_DIR/haven-warmup.log" env HAVEN_REPO="$warm_repo" HAVEN_PASSWORD=warmup "${HAVEN_CMD[@]}" backup "$warm_src"
  run_quiet "haven warm-up snapshots" "$LOG_DIR/haven-warmup.log" env HAVEN_REPO="$warm_repo" HAVEN_PASSWORD=warmup "${HAVEN_CMD[@]}" snapshots
  [[ $warm_repo == s3:* ]] || rm -rf "$warm_repo"
}

# s3_server_start DATA_DIR: starts the benchmark's S3-compatible server (s3proxy 4.1.0 with its
# filesystem store, the same fixture the tests use: io.haven.repository.backend.S3TestServer) on
# 127.0.0.1 and a free port, in the background. Sets S3_ENDPOINT, S3_PID, S3_BUCKET and exports
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION for both Haven and restic.
# Compiles haven-repository's tests once (untimed) to get the class and its classpath.
s3_server_start() {
  local data=$1 cpfile="$BENCH_DIR/s3-classpath.txt" epfile="$BENCH_DIR/s3-endpoint" java i
  log "compiling the S3 test server and resolving its classpath (untimed)"
  run_quiet "build S3 test server" "$LOG_DIR/s3-build.log" "$REPO_ROOT/build" -- -B -ntp -q \
    -pl haven-repository -am -DskipTests test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile="$cpfile"
  # shellcheck source=haven-cli/src/dist/bin/find-java.sh
  . "$REPO_ROOT/haven-cli/src/dist/bin/find-java.sh"
  haven_find_java || die "no JDK >= 21 for the S3 test server"
  java="$HAVEN_JAVA_HOME/bin/java"
  rm -f "$epfile"
  mkdir -p "$data"
  "$java" -Xmx1g -cp "$REPO_ROOT/haven-repository/target/test-classes:$REPO_ROOT/haven-repository/target/classes:$(cat "$cpfile")" \
    io.haven.repository.backend.S3TestServer "$data" "$epfile" >"$LOG_DIR/s3-server.log" 2>&1 &
  S3_PID=$!
  for ((i = 0; i < 600; i++)); do
    [[ -s $epfile ]] && break
    kill -0 "$S3_PID" 2>/dev/null || { tail -n 30 "$LOG_DIR/s3-server.log" >&2; die "the S3 test server exited"; }
    sleep 0.1
  done
  [[ -s $epfile ]] || die "the S3 test server did not start within 60 s (see $LOG_DIR/s3-server.log)"
  S3_ENDPOINT="$(head -n1 "$epfile")"
  S3_BUCKET=haven-test
  export AWS_ACCESS_KEY_ID=haven-test-access-key AWS_SECRET_ACCESS_KEY=haven-test-secret-key-0123456789 AWS_REGION=us-east-1
  log "S3 test server (s3proxy, filesystem store in $data) at $S3_ENDPOINT, pid $S3_PID"
}

s3_server_stop() {
  [[ -n ${S3_PID:-} ]] || return 0
  kill "$S3_PID" 2>/dev/null || true
  wait "$S3_PID" 2>/dev/null || true
  S3_PID=
}
