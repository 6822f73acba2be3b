#!/usr/bin/env bash
# Haven benchmark: back up the Linux kernel source tree with Haven, restic and
# borg on the same machine in the same run, and compare against a plain copy.
#
# Usage:  bench/kernel-backup.sh [--quick] [--help]
# Env:    BENCH_RUNS   runs per tool, median reported (default 3; 1 with --quick)
#         BENCH_DIR    work dir for the source tree, repos, restore targets
#                      (default /var/tmp/haven-bench)
#         BENCH_TOOLS  subset of "haven restic borg" (default: all three)
#         BENCH_SRC    back up this directory instead of the kernel tree
#         BENCH_QUICK_SUBDIR  subdir of the kernel tree for --quick
#                      (default drivers/net, ~6,000 files, ~125 MiB)
#         HAVEN        Haven command (default: <repo>/haven)
#
# See bench/README.md for details.
set -euo pipefail
export LC_ALL=C

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"

usage() { sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

QUICK=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument: $arg" >&2; usage >&2; exit 64 ;;
  esac
done

BENCH_DIR="${BENCH_DIR:-/var/tmp/haven-bench}"
if [[ $QUICK == 1 ]]; then BENCH_RUNS="${BENCH_RUNS:-1}"; else BENCH_RUNS="${BENCH_RUNS:-3}"; fi
BENCH_TOOLS="${BENCH_TOOLS:-haven restic borg}"
BENCH_QUICK_SUBDIR="${BENCH_QUICK_SUBDIR:-drivers/net}"
HAVEN_DEFAULT=0
[[ -z ${HAVEN:-} ]] && HAVEN_DEFAULT=1
HAVEN="${HAVEN:-$REPO_ROOT/haven}"
KERNEL_TARBALL=/usr/src/linux-source-6.1.tar.xz
KERNEL_NAME=linux-source-6.1
PASSWORD="haven-bench-password"

# ---------------------------------------------------------------- helpers ---
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

VERIFY_FAILED=()
verify_restore() {  # TOOL RUN DST
  local tool=$1 run=$2 dst=$3 n b
  read -r n b < <(tree_stats "$dst")
  if [[ $n != "$SRC_ENTRIES" || $b != "$SRC_BYTES" ]]; then
    {
      echo
      echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
      echo "!!! RESTORE MISMATCH: $tool run $run"
      echo "!!!   source:   $SRC_ENTRIES entries (non-dir), $SRC_BYTES bytes"
      echo "!!!   restored: $n entries (non-dir), $b bytes   in $dst"
      echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
      echo
    } >&2
    VERIFY_FAILED+=("$tool run $run: restored $n entries / $b bytes, source $SRC_ENTRIES / $SRC_BYTES")
    return 1
  fi
  log "  verify: restore complete ($n entries, $b bytes)"
}

# ------------------------------------------------------------ validation ---
for t in $BENCH_TOOLS; do
  case "$t" in haven|restic|borg) ;; *) die "BENCH_TOOLS: unknown tool '$t' (allowed: haven restic borg)";; esac
done
[[ $BENCH_RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer (got '$BENCH_RUNS')"
has_tool() { [[ " $BENCH_TOOLS " == *" $1 "* ]]; }

# ------------------------------------------------------------------ setup ---
need_pkgs=()
[[ -x /usr/bin/time ]] || need_pkgs+=(time)
has_tool restic && ! command -v restic >/dev/null && need_pkgs+=(restic)
has_tool borg && ! command -v borg >/dev/null && need_pkgs+=(borgbackup)
[[ -z ${BENCH_SRC:-} && ! -f $KERNEL_TARBALL ]] && need_pkgs+=(linux-source-6.1)
if (( ${#need_pkgs[@]} )); then
  SUDO=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || die "need root (or sudo) to install: ${need_pkgs[*]}"
    SUDO=(sudo)
  fi
  log "installing: ${need_pkgs[*]}"
  "${SUDO[@]}" apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${need_pkgs[@]}" \
    || die "apt-get install ${need_pkgs[*]} failed"
fi

mkdir -p "$BENCH_DIR"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd)"
LOG_DIR="$BENCH_DIR/logs"; mkdir -p "$LOG_DIR"

if [[ -n ${BENCH_SRC:-} ]]; then
  [[ -d $BENCH_SRC ]] || die "BENCH_SRC=$BENCH_SRC is not a directory"
  TREE="$(cd "$BENCH_SRC" && pwd)"
else
  TREE="$BENCH_DIR/$KERNEL_NAME"
  MARKER="$BENCH_DIR/.$KERNEL_NAME.extracted"
  if [[ ! -f $MARKER || ! -d $TREE ]]; then
    log "extracting $KERNEL_TARBALL to $TREE (once)"
    rm -rf "$TREE" "$BENCH_DIR/.extract"
    mkdir -p "$BENCH_DIR/.extract"
    tar -C "$BENCH_DIR/.extract" -xJf "$KERNEL_TARBALL" || die "extracting $KERNEL_TARBALL failed"
    mv "$BENCH_DIR/.extract/$KERNEL_NAME" "$TREE"
    rmdir "$BENCH_DIR/.extract"
    touch "$MARKER"
  fi
fi

if [[ $QUICK == 1 ]]; then
  SRC="$TREE/$BENCH_QUICK_SUBDIR"
  [[ -d $SRC ]] || die "--quick: $SRC does not exist (set BENCH_QUICK_SUBDIR)"
  MODE=quick
else
  SRC="$TREE"
  MODE=full
fi

HAVEN_CMD=()
if has_tool haven; then
  read -r -a HAVEN_CMD <<<"$HAVEN"
  [[ ${#HAVEN_CMD[@]} -gt 0 ]] || die "HAVEN is empty"
  if [[ ${HAVEN_CMD[0]} == */* ]]; then
    [[ -x ${HAVEN_CMD[0]} ]] || die "Haven not found or not executable: ${HAVEN_CMD[0]} (set HAVEN=..., or BENCH_TOOLS=\"restic borg\")"
  else
    command -v "${HAVEN_CMD[0]}" >/dev/null || die "Haven command not found: ${HAVEN_CMD[0]}"
  fi
fi

# State (caches/config) per tool lives under BENCH_DIR so runs are isolated.
STATE="$BENCH_DIR/state"
WORK="$BENCH_DIR/work"
rm -rf "$STATE" "$WORK"
mkdir -p "$STATE" "$WORK"

cleanup() { rm -rf "$WORK" "$STATE" 2>/dev/null || true; }
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

# ---------------------------------------------------------- host / versions --
DATE_ISO="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
DATE_TAG="$(date -u +%Y%m%d-%H%M%S)"
NPROC="$(nproc)"
CPU_MODEL="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
[[ -n $CPU_MODEL ]] || CPU_MODEL="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n1)"
KERNEL="$(uname -sr)"
MEM_MIB="$(awk '/^MemTotal:/ {printf "%d", $2/1024}' /proc/meminfo)"
FS_TYPE="$(df -PT "$BENCH_DIR" | awk 'NR==2 {print $2 " on " $1}')"
TAR_VER="$(tar --version | head -n1)"

declare -A VERSION
if has_tool haven; then
  log "running '$HAVEN --version' once (builds Haven if needed; not timed)"
  run_quiet "haven --version" "$LOG_DIR/haven-version.log" "${HAVEN_CMD[@]}" --version
  VERSION[haven]="$(grep -v '^[[:space:]]*$' "$LOG_DIR/haven-version.log" | head -n1 || true)"
  # The repo-root wrapper re-checks (and may rebuild) the sources on every call.
  # Time the built distribution directly so no build check or rebuild (e.g.
  # because someone edited a source file meanwhile) lands inside a timing.
  if [[ $HAVEN_DEFAULT == 1 && -x $REPO_ROOT/haven-cli/target/haven/bin/haven ]]; then
    HAVEN_CMD=("$REPO_ROOT/haven-cli/target/haven/bin/haven")
    log "timing the built distribution directly: ${HAVEN_CMD[0]}"
  fi
  # Haven keeps a JVM start-up cache per machine (~/.cache/haven; see docs/decisions.md):
  # the first backup records it and the next command assembles it. Do both here, untimed,
  # on a small tree, so every timed run sees the state a user has after their first backup.
  # The runs below get fresh per-tool caches (XDG_CACHE_HOME) because restic's and borg's
  # caches are per repository; Haven's JVM cache is per installation, so it lives apart.
  export HAVEN_CACHE_DIR="$BENCH_DIR/haven-jvm-cache"
  warm_repo="$BENCH_DIR/haven-warmup-repo"
  warm_src="$REPO_ROOT/docs"
  [[ -d $SRC/kernel ]] && warm_src="$SRC/kernel"   # a slice of the same tree: about 12 MB of C
  [[ -d ${BENCH_WARMUP_SRC:-} ]] && warm_src=$BENCH_WARMUP_SRC
  rm -rf "$warm_repo"
  log "warming Haven's start-up cache (untimed: init, backup and list of a small tree)"
  run_quiet "haven warm-up init" "$LOG_DIR/haven-warmup.log" env HAVEN_REPO="$warm_repo" HAVEN_PASSWORD=warmup "${HAVEN_CMD[@]}" init
  run_quiet "haven warm-up backup" "$LOG_DIR/haven-warmup.log" env HAVEN_REPO="$warm_repo" HAVEN_PASSWORD=warmup "${HAVEN_CMD[@]}" backup "$warm_src"
  run_quiet "haven warm-up snapshots" "$LOG_DIR/haven-warmup.log" env HAVEN_REPO="$warm_repo" HAVEN_PASSWORD=warmup "${HAVEN_CMD[@]}" snapshots
  rm -rf "$warm_repo"
fi
has_tool restic && VERSION[restic]="$(restic version | head -n1)"
has_tool borg && VERSION[borg]="$(borg --version | head -n1)"

read -r SRC_ENTRIES SRC_BYTES < <(tree_stats "$SRC")
SRC_ALL="$(find "$SRC" | wc -l)"
SRC_MIB="$(awk -v b="$SRC_BYTES" 'BEGIN {printf "%.0f", b/1048576}')"

avail_kib="$(df -Pk "$BENCH_DIR" | awk 'NR==2 {print $4}')"
need_kib=$(( SRC_BYTES * 3 / 1024 ))   # repo + restore target + copy, roughly
(( avail_kib > need_kib )) || die "not enough free space in $BENCH_DIR: $((avail_kib/1024)) MiB available, ~$((need_kib/1024)) MiB needed"

log "mode=$MODE runs=$BENCH_RUNS tools='$BENCH_TOOLS'"
log "source: $SRC ($SRC_ALL paths, $SRC_ENTRIES non-dir entries, $SRC_MIB MiB)"

# Warm the page cache. Note: GNU tar skips reading file data when the archive
# is literally /dev/null, so pipe through cat.
log "warming page cache (untimed read of the tree)"
tar -C "$SRC" -cf - . | cat >/dev/null

# --------------------------------------------------------------- tool ops ---
# Each tool implements: init REPO, backup REPO NAME (timed), restore REPO DST (timed).
setup_env() {  # TOOL REPO
  local tool=$1 repo=$2 st="$STATE/$1"
  mkdir -p "$st"
  export XDG_CACHE_HOME="$st/cache" XDG_CONFIG_HOME="$st/config"
  case "$tool" in
    haven)
      export HAVEN_REPO="$repo" HAVEN_PASSWORD="$PASSWORD" ;;
    restic)
      export RESTIC_REPOSITORY="$repo" RESTIC_PASSWORD="$PASSWORD" RESTIC_CACHE_DIR="$st/cache/restic" ;;
    borg)
      export BORG_REPO="$repo" BORG_PASSPHRASE="$PASSWORD" BORG_BASE_DIR="$st" \
        BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes \
        BORG_DELETE_I_KNOW_WHAT_I_AM_DOING=YES BORG_CHECK_I_KNOW_WHAT_I_AM_DOING=YES \
        BORG_DISPLAY_PASSPHRASE=no ;;
  esac
}

tool_init() {  # TOOL REPO
  local tool=$1 repo=$2 lg="$LOG_DIR/$1-init.log"
  case "$tool" in
    haven)  run_quiet "haven init"  "$lg" "${HAVEN_CMD[@]}" init ;;
    restic) run_quiet "restic init" "$lg" restic init ;;
    borg)   run_quiet "borg init"   "$lg" borg init -e repokey "$repo" ;;
  esac
}

tool_backup() {  # TOOL REPO NAME LABEL
  local tool=$1 repo=$2 name=$3 label=$4 lg="$LOG_DIR/$1-$3.log"
  case "$tool" in
    haven)  run_timed "$label" "$lg" "${HAVEN_CMD[@]}" backup --json "$SRC" ;;
    restic) run_timed "$label" "$lg" restic backup "$SRC" ;;
    borg)   run_timed "$label" "$lg" borg create --compression zstd,3 "$repo::$name" "$SRC" ;;
  esac
}

tool_restore() {  # TOOL REPO DST LABEL
  local tool=$1 repo=$2 dst=$3 label=$4 lg="$LOG_DIR/$1-restore.log"
  case "$tool" in
    haven)  run_timed "$label" "$lg" "${HAVEN_CMD[@]}" restore latest --target "$dst" ;;
    restic) run_timed "$label" "$lg" restic restore latest --target "$dst" ;;
    borg)   run_timed "$label" "$lg" env -C "$dst" borg extract "$repo::second" ;;
  esac
}

# ------------------------------------------------------------ measurements ---
declare -A S_FIRST S_RE S_RESTORE S_SIZE S_RSS S_CPU_FIRST S_CPU_RE S_CPU_RESTORE MED_FIRST MED_RE MED_RESTORE MED_SIZE MED_RSS
HAVEN_SUMMARY=""

for tool in $BENCH_TOOLS; do
  log "== $tool =="
  first=() re=() rest=() size=() rss=() cfirst=() cre=() crest=()
  for ((i = 1; i <= BENCH_RUNS; i++)); do
    repo="$WORK/$tool-repo" dst="$WORK/$tool-restore"
    rm -rf "$repo" "$dst" "$STATE/$tool"
    setup_env "$tool" "$repo"
    tool_init "$tool" "$repo"

    tool_backup "$tool" "$repo" first "$tool run $i/$BENCH_RUNS first backup"
    first+=("$T_WALL"); rss+=("$T_RSS"); cfirst+=("$T_CPU")
    if [[ $tool == haven && -z $HAVEN_SUMMARY ]]; then
      HAVEN_SUMMARY="$(cat "$LOG_DIR/haven-first.log")"
    fi
    size+=("$(du -sb "$repo" | cut -f1)")
    log "  repo size: $(( ${size[-1]} / 1048576 )) MiB"

    tool_backup "$tool" "$repo" second "$tool run $i/$BENCH_RUNS re-backup (unchanged)"
    re+=("$T_WALL"); cre+=("$T_CPU")

    mkdir -p "$dst"
    tool_restore "$tool" "$repo" "$dst" "$tool run $i/$BENCH_RUNS restore"
    rest+=("$T_WALL"); crest+=("$T_CPU")
    verify_restore "$tool" "$i" "$dst" || true

    rm -rf "$repo" "$dst" "$STATE/$tool"
  done
  unset HAVEN_REPO HAVEN_PASSWORD RESTIC_REPOSITORY RESTIC_PASSWORD RESTIC_CACHE_DIR BORG_REPO BORG_PASSPHRASE BORG_BASE_DIR
  S_FIRST[$tool]="${first[*]}"; S_RE[$tool]="${re[*]}"; S_RESTORE[$tool]="${rest[*]}"
  S_SIZE[$tool]="${size[*]}"; S_RSS[$tool]="${rss[*]}"
  S_CPU_FIRST[$tool]="${cfirst[*]}"; S_CPU_RE[$tool]="${cre[*]}"; S_CPU_RESTORE[$tool]="${crest[*]}"
  MED_FIRST[$tool]="$(median "${first[@]}")"
  MED_RE[$tool]="$(median "${re[@]}")"
  MED_RESTORE[$tool]="$(median "${rest[@]}")"
  MED_SIZE[$tool]="$(median "${size[@]}" | awk '{printf "%d", $1}')"
  MED_RSS[$tool]="$(median "${rss[@]}" | awk '{printf "%d", $1}')"
done

log "== plain copy (tar | tar, same disk) =="
copy=() ccopy=()
for ((i = 1; i <= BENCH_RUNS; i++)); do
  dst="$WORK/copy"
  rm -rf "$dst"; mkdir -p "$dst"
  run_timed "copy run $i/$BENCH_RUNS" "$LOG_DIR/copy.log" \
    bash -o pipefail -c 'tar -C "$1" -cf - . | tar -C "$2" -xf -' _ "$SRC" "$dst"
  copy+=("$T_WALL"); ccopy+=("$T_CPU")
  verify_restore "plain-copy" "$i" "$dst" || true
  rm -rf "$dst"
done
S_FIRST[copy]="${copy[*]}"; S_CPU_FIRST[copy]="${ccopy[*]}"
MED_COPY="$(median "${copy[@]}")"

# ------------------------------------------------------------------ report ---
mib() { [[ -n ${1:-} ]] && awk -v b="$1" 'BEGIN {printf "%.1f", b/1048576}'; }
kib2mib() { [[ -n ${1:-} ]] && awk -v k="$1" 'BEGIN {printf "%.0f", k/1024}'; }
cell() { if [[ -n ${1:-} ]]; then printf '%s%s' "$1" "${2:-}"; else printf '—'; fi; }  # VALUE [UNIT]
div()  { [[ -n ${1:-} && -n ${2:-} ]] && awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a/b}'; }
# check VALUE OP TARGET -> PASS/FAIL/n/a
check() {
  [[ -n ${1:-} ]] || { echo "n/a"; return; }
  awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
    ok = (op == ">=") ? v >= t : (op == "<=") ? v <= t : (op == "<") ? v < t : 0
    print (ok ? "PASS" : "FAIL") }'
}

R_FIRST_RESTIC="$(div "${MED_FIRST[restic]:-}" "${MED_FIRST[haven]:-}" || true)"
R_FIRST_BORG="$(div "${MED_FIRST[borg]:-}" "${MED_FIRST[haven]:-}" || true)"
R_RE_RESTIC="$(div "${MED_RE[restic]:-}" "${MED_RE[haven]:-}" || true)"
R_RESTORE_COPY="$(div "${MED_RESTORE[haven]:-}" "$MED_COPY" || true)"
R_SIZE_BORG="$(div "${MED_SIZE[haven]:-}" "${MED_SIZE[borg]:-}" || true)"
HAVEN_RSS_MIB="$(kib2mib "${MED_RSS[haven]:-}" || true)"

mkdir -p "$SCRIPT_DIR/results"
suffix=""; [[ $MODE == quick ]] && suffix="-quick"
OUT_MD="$SCRIPT_DIR/results/kernel-$DATE_TAG$suffix.md"
OUT_JSON="$SCRIPT_DIR/results/kernel-$DATE_TAG$suffix.json"

{
  echo "# Haven kernel-tree backup benchmark ($MODE)"
  echo
  echo "- Date: $DATE_ISO"
  echo "- Host: nproc=$NPROC, CPU: $CPU_MODEL, RAM: $MEM_MIB MiB"
  echo "- Kernel: $KERNEL"
  echo "- Disk: $FS_TYPE ($BENCH_DIR)"
  echo "- Source: \`$SRC\` — $SRC_ALL paths, $SRC_ENTRIES files+symlinks, $SRC_MIB MiB"
  echo "- Runs: $BENCH_RUNS per tool (median), warm page cache"
  for t in $BENCH_TOOLS; do echo "- $t: ${VERSION[$t]}"; done
  echo "- plain copy: $TAR_VER"
  echo
  echo "| tool | first backup s | re-backup s | restore s | repo size MiB | peak RSS MiB |"
  echo "|---|---:|---:|---:|---:|---:|"
  for t in haven restic borg; do
    has_tool "$t" || continue
    printf '| %s | %s | %s | %s | %s | %s |\n' "$t" \
      "${MED_FIRST[$t]}" "${MED_RE[$t]}" "${MED_RESTORE[$t]}" \
      "$(mib "${MED_SIZE[$t]}")" "$(kib2mib "${MED_RSS[$t]}")"
  done
  printf '| plain copy | %s | — | — | — | — |\n' "$MED_COPY"
  echo
  echo "| ratio | value | target | status |"
  echo "|---|---:|---:|---|"
  printf '| Haven first-backup speedup vs restic | %s | ≥ 2.5× | %s |\n' "$(cell "$R_FIRST_RESTIC" ×)" "$(check "$R_FIRST_RESTIC" '>=' 2.5)"
  printf '| Haven first-backup speedup vs borg | %s | ≥ 2.5× | %s |\n'   "$(cell "$R_FIRST_BORG" ×)"   "$(check "$R_FIRST_BORG" '>=' 2.5)"
  printf '| Haven re-backup speedup vs restic | %s | ≥ 3× | %s |\n'      "$(cell "$R_RE_RESTIC" ×)"    "$(check "$R_RE_RESTIC" '>=' 3)"
  printf '| Haven restore / plain copy | %s | ≤ 1.3 | %s |\n'             "$(cell "$R_RESTORE_COPY")" "$(check "$R_RESTORE_COPY" '<=' 1.3)"
  printf '| Haven repo size / borg repo size | %s | ≤ 1.05 | %s |\n'      "$(cell "$R_SIZE_BORG")"    "$(check "$R_SIZE_BORG" '<=' 1.05)"
  printf '| Haven peak RSS | %s | < 400 MiB | %s |\n'                 "$(cell "$HAVEN_RSS_MIB" " MiB")"  "$(check "$HAVEN_RSS_MIB" '<' 400)"
  echo
  echo "Per-run samples (wall s, RSS KiB, repo bytes; CPU = user+sys s):"
  echo
  for t in $BENCH_TOOLS; do
    echo "- $t: first [${S_FIRST[$t]}], re-backup [${S_RE[$t]}], restore [${S_RESTORE[$t]}], rss [${S_RSS[$t]}], repo [${S_SIZE[$t]}]"
    echo "  - CPU s (user+sys): first [${S_CPU_FIRST[$t]}], re-backup [${S_CPU_RE[$t]}], restore [${S_CPU_RESTORE[$t]}]"
  done
  echo "- plain copy: [${S_FIRST[copy]}], CPU s [${S_CPU_FIRST[copy]}]"
  if (( ${#CLOCK_WARNINGS[@]} )); then
    echo
    echo "**CLOCK WARNINGS (timings may be unreliable):**"
    for v in "${CLOCK_WARNINGS[@]}"; do echo "- $v"; done
  fi
  if (( ${#VERIFY_FAILED[@]} )); then
    echo
    echo "**RESTORE VERIFICATION FAILED:**"
    for v in "${VERIFY_FAILED[@]}"; do echo "- $v"; done
  else
    echo
    echo "All restores verified (file+symlink count and total bytes match the source)."
  fi
} >"$OUT_MD"

samples_json() { json_arr $1; }   # word-split on purpose
{
  echo "{"
  echo "  \"benchmark\": \"kernel-backup\","
  echo "  \"mode\": $(json_str "$MODE"),"
  echo "  \"date\": $(json_str "$DATE_ISO"),"
  echo "  \"runs\": $BENCH_RUNS,"
  echo "  \"host\": {\"nproc\": $NPROC, \"cpu\": $(json_str "$CPU_MODEL"), \"mem_mib\": $MEM_MIB, \"kernel\": $(json_str "$KERNEL"), \"disk\": $(json_str "$FS_TYPE")},"
  echo "  \"source\": {\"path\": $(json_str "$SRC"), \"paths\": $SRC_ALL, \"entries\": $SRC_ENTRIES, \"bytes\": $SRC_BYTES},"
  echo "  \"tools\": {"
  first_t=1
  for t in $BENCH_TOOLS; do
    [[ $first_t == 1 ]] || echo ","
    first_t=0
    printf '    %s: {"version": %s, "first_backup_s": %s, "rebackup_s": %s, "restore_s": %s, "repo_bytes": %s, "peak_rss_kib": %s,\n' \
      "$(json_str "$t")" "$(json_str "${VERSION[$t]}")" "${MED_FIRST[$t]}" "${MED_RE[$t]}" "${MED_RESTORE[$t]}" "${MED_SIZE[$t]}" "${MED_RSS[$t]}"
    printf '      "samples": {"first_backup_s": %s, "rebackup_s": %s, "restore_s": %s, "repo_bytes": %s, "peak_rss_kib": %s,\n' \
      "$(samples_json "${S_FIRST[$t]}")" "$(samples_json "${S_RE[$t]}")" "$(samples_json "${S_RESTORE[$t]}")" \
      "$(samples_json "${S_SIZE[$t]}")" "$(samples_json "${S_RSS[$t]}")"
    printf '        "first_backup_cpu_s": %s, "rebackup_cpu_s": %s, "restore_cpu_s": %s}}' \
      "$(samples_json "${S_CPU_FIRST[$t]}")" "$(samples_json "${S_CPU_RE[$t]}")" "$(samples_json "${S_CPU_RESTORE[$t]}")"
  done
  [[ $first_t == 1 ]] || echo ","
  printf '    "plain_copy": {"version": %s, "copy_s": %s, "samples": {"copy_s": %s, "copy_cpu_s": %s}}\n' \
    "$(json_str "$TAR_VER")" "$MED_COPY" "$(samples_json "${S_FIRST[copy]}")" "$(samples_json "${S_CPU_FIRST[copy]}")"
  echo "  },"
  echo "  \"ratios\": {"
  echo "    \"haven_first_backup_speedup_vs_restic\": $(json_num "$R_FIRST_RESTIC"),"
  echo "    \"haven_first_backup_speedup_vs_borg\": $(json_num "$R_FIRST_BORG"),"
  echo "    \"haven_rebackup_speedup_vs_restic\": $(json_num "$R_RE_RESTIC"),"
  echo "    \"haven_restore_over_plain_copy\": $(json_num "$R_RESTORE_COPY"),"
  echo "    \"haven_repo_size_over_borg\": $(json_num "$R_SIZE_BORG"),"
  echo "    \"haven_peak_rss_mib\": $(json_num "$HAVEN_RSS_MIB")"
  echo "  },"
  echo "  \"targets\": {\"first_backup_speedup_min\": 2.5, \"rebackup_speedup_vs_restic_min\": 3, \"restore_over_copy_max\": 1.3, \"repo_size_over_borg_max\": 1.05, \"peak_rss_mib_max_exclusive\": 400},"
  # Haven's own JSON summary of the first backup, embedded if it parses.
  hs="null"
  if [[ -n $HAVEN_SUMMARY ]] && command -v python3 >/dev/null; then
    hs="$(printf '%s' "$HAVEN_SUMMARY" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))' 2>/dev/null || echo null)"
  fi
  echo "  \"haven_first_backup_summary\": $hs,"
  printf '  "clock_warnings": ['
  sep=""
  for v in "${CLOCK_WARNINGS[@]}"; do printf '%s%s' "$sep" "$(json_str "$v")"; sep=", "; done
  echo "],"
  printf '  "verify_failures": ['
  sep=""
  for v in "${VERIFY_FAILED[@]}"; do printf '%s%s' "$sep" "$(json_str "$v")"; sep=", "; done
  echo "]"
  echo "}"
} >"$OUT_JSON"

echo
cat "$OUT_MD"
echo
echo "Results written to: $OUT_MD"
echo "                    $OUT_JSON"
echo "Tool logs:          $LOG_DIR"

if (( ${#VERIFY_FAILED[@]} )); then
  echo >&2
  echo "!!! ${#VERIFY_FAILED[@]} restore verification failure(s) — see above" >&2
  exit 2
fi
