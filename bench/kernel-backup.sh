#!/usr/bin/env bash
# Haven benchmark: back up the Linux kernel source tree with Haven, restic and
# borg on the same machine in the same run, and compare against a plain copy.
#
# Usage:  bench/kernel-backup.sh [--quick] [--s3] [--help]
#         --s3: repositories in an S3-compatible server on loopback (s3proxy,
#               filesystem store) instead of local directories; haven and restic
# Env:    BENCH_RUNS   runs per tool, median reported (default 3; 1 with --quick)
#         BENCH_DIR    work dir for the source tree, repos, restore targets
#                      (default /var/tmp/haven-bench)
#         BENCH_TOOLS  subset of "haven restic borg" (default: all three;
#                      "haven restic" with --s3, as borg has no S3 backend)
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

usage() { sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

QUICK=0
BACKEND=local
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --s3) BACKEND=s3 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument: $arg" >&2; usage >&2; exit 64 ;;
  esac
done

BENCH_DIR="${BENCH_DIR:-/var/tmp/haven-bench}"
if [[ $QUICK == 1 ]]; then BENCH_RUNS="${BENCH_RUNS:-1}"; else BENCH_RUNS="${BENCH_RUNS:-3}"; fi
if [[ $BACKEND == s3 ]]; then BENCH_TOOLS="${BENCH_TOOLS:-haven restic}"; else BENCH_TOOLS="${BENCH_TOOLS:-haven restic borg}"; fi
BENCH_QUICK_SUBDIR="${BENCH_QUICK_SUBDIR:-drivers/net}"
HAVEN_DEFAULT=0
[[ -z ${HAVEN:-} ]] && HAVEN_DEFAULT=1
HAVEN="${HAVEN:-$REPO_ROOT/haven}"
PASSWORD="haven-bench-password"

SCRIPT_LIB="$SCRIPT_DIR/lib.sh"
# shellcheck source=bench/lib.sh
. "$SCRIPT_LIB"

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
[[ $BACKEND == s3 ]] && has_tool borg && die "--s3: borg has no S3 backend (BENCH_TOOLS=\"haven restic\")"

# ------------------------------------------------------------------ setup ---
need_pkgs=()
[[ -x /usr/bin/time ]] || need_pkgs+=(time)
has_tool restic && ! command -v restic >/dev/null && need_pkgs+=(restic)
has_tool borg && ! command -v borg >/dev/null && need_pkgs+=(borgbackup)
kernel_needed && need_pkgs+=(linux-source-6.1)
install_missing ${need_pkgs[@]+"${need_pkgs[@]}"}

mkdir -p "$BENCH_DIR"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd)"
LOG_DIR="$BENCH_DIR/logs"; mkdir -p "$LOG_DIR"

if [[ -n ${BENCH_SRC:-} ]]; then
  [[ -d $BENCH_SRC ]] || die "BENCH_SRC=$BENCH_SRC is not a directory"
  TREE="$(cd "$BENCH_SRC" && pwd)"
else
  TREE="$(kernel_tree)"
fi

if [[ $QUICK == 1 ]]; then
  SRC="$TREE/$BENCH_QUICK_SUBDIR"
  [[ -d $SRC ]] || die "--quick: $SRC does not exist (set BENCH_QUICK_SUBDIR)"
  MODE=quick
else
  SRC="$TREE"
  MODE=full
fi


# State (caches/config) per tool lives under BENCH_DIR so runs are isolated.
STATE="$BENCH_DIR/state"
WORK="$BENCH_DIR/work"
rm -rf "$STATE" "$WORK"
mkdir -p "$STATE" "$WORK"

cleanup() { s3_server_stop; rm -rf "$WORK" "$STATE" 2>/dev/null || true; }
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

# ---------------------------------------------------------- host / versions --
bench_host_info
TAR_VER="$(tar --version | head -n1)"

if [[ $BACKEND == s3 ]]; then
  S3_DATA="$WORK/s3data"
  s3_server_start "$S3_DATA"
fi

declare -A VERSION
if has_tool haven; then
  # The start-up cache is recorded by an untimed backup of the benchmarked tree itself: the
  # state of an installation that has backed up this data before (a nightly backup). A
  # smaller warm-up tree (BENCH_WARMUP_SRC) leaves thinner method profiles and a first
  # backup about 1 s slower; the very first run of a new installation is timed apart below.
  haven_prepare "$SRC"
fi
has_tool restic && VERSION[restic]="$(restic version | head -n1)"
has_tool borg && VERSION[borg]="$(borg --version | head -n1)"

read -r SRC_ENTRIES SRC_BYTES < <(tree_stats "$SRC")
SRC_ALL="$(find "$SRC" | wc -l)"
SRC_MIB="$(awk -v b="$SRC_BYTES" 'BEGIN {printf "%.0f", b/1048576}')"

avail_kib="$(df -Pk "$BENCH_DIR" | awk 'NR==2 {print $4}')"
need_kib=$(( SRC_BYTES * 3 / 1024 ))   # repo + restore target + copy, roughly
(( avail_kib > need_kib )) || die "not enough free space in $BENCH_DIR: $((avail_kib/1024)) MiB available, ~$((need_kib/1024)) MiB needed"

# repo_location TOOL RUN: where TOOL's repository lives; repo_files: its files on this disk.
repo_location() {
  if [[ $BACKEND == s3 ]]; then printf 's3:%s/%s/%s-run%s' "$S3_ENDPOINT" "$S3_BUCKET" "$1" "$2"
  else printf '%s/%s-repo' "$WORK" "$1"; fi
}
repo_files() {
  if [[ $BACKEND == s3 ]]; then printf '%s/%s/%s-run%s' "$S3_DATA" "$S3_BUCKET" "$1" "$2"
  else printf '%s/%s-repo' "$WORK" "$1"; fi
}

log "mode=$MODE backend=$BACKEND runs=$BENCH_RUNS tools='$BENCH_TOOLS'"
log "source: $SRC ($SRC_ALL paths, $SRC_ENTRIES non-dir entries, $SRC_MIB MiB)"

# Warm the page cache. Note: GNU tar skips reading file data when the archive
# is literally /dev/null, so pipe through cat. Done again (untimed) before every timed read
# of the tree: this machine's kernel pages out file cache that has not been used for about a
# minute (a DAMON "pageout" scheme, /sys/kernel/mm/damon/admin), so with one warm-up at the
# start, first backups that came more than a minute later read the tree from disk, and which
# runs of which tool did so depended on the order of the runs.
warm_tree() { tar -C "$SRC" -cf - . | cat >/dev/null; }
log "warming page cache (untimed read of the tree, repeated before every timed read of it)"
warm_tree

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

# A new installation: no start-up cache yet. Its first backup records one (the JVM writes
# what it loaded and profiled), the re-backup after it assembles the cache (about 1.5 s)
# before running. Timed once, apart from the medians, and first: after the restores below the
# disk is busy for minutes with the deleted trees (restores then take 35 s instead of 5 s).
FRESH_FIRST="" FRESH_RE="" FRESH_CPU_FIRST="" FRESH_CPU_RE=""
if has_tool haven; then
  log "== haven on a new installation (empty start-up cache) =="
  repo="$(repo_location haven fresh)" files="$(repo_files haven fresh)"
  rm -rf "$files" "$STATE/haven"
  saved_cache="${HAVEN_CACHE_DIR:-}"
  export HAVEN_CACHE_DIR="$WORK/haven-fresh-jvm-cache"
  rm -rf "$HAVEN_CACHE_DIR"
  setup_env haven "$repo"
  tool_init haven "$repo"
  tool_backup haven "$repo" fresh-first "haven new installation: first backup (records the start-up cache)"
  FRESH_FIRST=$T_WALL FRESH_CPU_FIRST=$T_CPU
  tool_backup haven "$repo" fresh-second "haven new installation: re-backup (assembles the start-up cache)"
  FRESH_RE=$T_WALL FRESH_CPU_RE=$T_CPU
  rm -rf "$files" "$STATE/haven" "$HAVEN_CACHE_DIR"
  export HAVEN_CACHE_DIR="$saved_cache"
  unset HAVEN_REPO HAVEN_PASSWORD
fi

# The tools take turns, run by run (haven, restic, borg, haven, ...), rather than one tool's runs
# after another's: this VM's speed drifts by 10-20 % over minutes, and with each tool's runs in
# one block a slow phase fell on one tool only and moved the ratios by as much.
declare -A A_FIRST A_RE A_REST A_SIZE A_RSS A_CFIRST A_CRE A_CREST
for ((i = 1; i <= BENCH_RUNS; i++)); do
  for tool in $BENCH_TOOLS; do
    log "== $tool, run $i/$BENCH_RUNS =="
    repo="$(repo_location "$tool" "$i")" files="$(repo_files "$tool" "$i")" dst="$WORK/$tool-restore"
    rm -rf "$files" "$dst" "$STATE/$tool" "${HAVEN_CACHE_DIR:-/nonexistent}/repos"
    warm_tree
    settle
    setup_env "$tool" "$repo"
    tool_init "$tool" "$repo"

    tool_backup "$tool" "$repo" first "$tool run $i/$BENCH_RUNS first backup"
    A_FIRST[$tool]+=" $T_WALL"; A_RSS[$tool]+=" $T_RSS"; A_CFIRST[$tool]+=" $T_CPU"
    if [[ $tool == haven && -z $HAVEN_SUMMARY ]]; then
      HAVEN_SUMMARY="$(cat "$LOG_DIR/haven-first.log")"
    fi
    A_SIZE[$tool]+=" $(du -sb "$files" | cut -f1)"
    log "  repo size: $(( ${A_SIZE[$tool]##* } / 1048576 )) MiB"

    tool_backup "$tool" "$repo" second "$tool run $i/$BENCH_RUNS re-backup (unchanged)"
    A_RE[$tool]+=" $T_WALL"; A_CRE[$tool]+=" $T_CPU"

    mkdir -p "$dst"
    tool_restore "$tool" "$repo" "$dst" "$tool run $i/$BENCH_RUNS restore"
    A_REST[$tool]+=" $T_WALL"; A_CREST[$tool]+=" $T_CPU"
    verify_restore "$tool" "$i" "$dst" || true

    rm -rf "$files" "$dst" "$STATE/$tool"
    unset HAVEN_REPO HAVEN_PASSWORD RESTIC_REPOSITORY RESTIC_PASSWORD RESTIC_CACHE_DIR BORG_REPO BORG_PASSPHRASE BORG_BASE_DIR
  done
done
for tool in $BENCH_TOOLS; do
  read -r -a first <<<"${A_FIRST[$tool]}"; read -r -a re <<<"${A_RE[$tool]}"; read -r -a rest <<<"${A_REST[$tool]}"
  read -r -a size <<<"${A_SIZE[$tool]}"; read -r -a rss <<<"${A_RSS[$tool]}"
  S_FIRST[$tool]="${first[*]}"; S_RE[$tool]="${re[*]}"; S_RESTORE[$tool]="${rest[*]}"
  S_SIZE[$tool]="${size[*]}"; S_RSS[$tool]="${rss[*]}"
  S_CPU_FIRST[$tool]="${A_CFIRST[$tool]# }"; S_CPU_RE[$tool]="${A_CRE[$tool]# }"; S_CPU_RESTORE[$tool]="${A_CREST[$tool]# }"
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
  warm_tree
  settle
  run_timed "copy run $i/$BENCH_RUNS" "$LOG_DIR/copy.log" \
    bash -o pipefail -c 'tar -C "$1" -cf - . | tar -C "$2" -xf -' _ "$SRC" "$dst"
  copy+=("$T_WALL"); ccopy+=("$T_CPU")
  verify_restore "plain-copy" "$i" "$dst" || true
  rm -rf "$dst"
done
S_FIRST[copy]="${copy[*]}"; S_CPU_FIRST[copy]="${ccopy[*]}"
MED_COPY="$(median "${copy[@]}")"

# ------------------------------------------------------------------ report ---
cell() { if [[ -n ${1:-} ]]; then printf '%s%s' "$1" "${2:-}"; else printf '—'; fi; }  # VALUE [UNIT]
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
[[ $BACKEND == s3 ]] && suffix="-s3$suffix"
OUT_MD="$SCRIPT_DIR/results/kernel-$DATE_TAG$suffix.md"
OUT_JSON="$SCRIPT_DIR/results/kernel-$DATE_TAG$suffix.json"

{
  echo "# Haven kernel-tree backup benchmark ($MODE, $BACKEND repositories)"
  echo
  echo "- Date: $DATE_ISO"
  echo "- Host: nproc=$NPROC, CPU: $CPU_MODEL, RAM: $MEM_MIB MiB"
  echo "- Kernel: $KERNEL"
  echo "- Disk: $FS_TYPE ($BENCH_DIR)"
  echo "- Source: \`$SRC\` — $SRC_ALL paths, $SRC_ENTRIES files+symlinks, $SRC_MIB MiB"
  echo "- Runs: $BENCH_RUNS per tool (median), warm page cache"
  [[ $BACKEND == s3 ]] && echo "- Repositories: S3 on loopback, s3proxy 4.1.0 (filesystem store on the same disk) at $S3_ENDPOINT, one prefix per tool and run; repo size = bytes of the store's files"
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
  if [[ -n $FRESH_FIRST ]]; then
    echo
    echo "Haven on a new installation (no start-up cache; one run, not in the medians): first backup ${FRESH_FIRST} s (CPU ${FRESH_CPU_FIRST} s; it records the cache), unchanged re-backup ${FRESH_RE} s (CPU ${FRESH_CPU_RE} s; it assembles the cache first). The table's Haven runs use a cache recorded by an untimed backup of this tree."
  fi
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
  echo "  \"backend\": $(json_str "$BACKEND"),"
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
  if [[ -n $FRESH_FIRST ]]; then
    echo "  \"haven_new_installation\": {\"first_backup_s\": $FRESH_FIRST, \"first_backup_cpu_s\": $FRESH_CPU_FIRST, \"rebackup_s\": $FRESH_RE, \"rebackup_cpu_s\": $FRESH_CPU_RE},"
  fi
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
