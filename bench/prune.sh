#!/usr/bin/env bash
# Haven benchmark: prune after forgetting half of 20 snapshots of a changing tree,
# Haven beside restic, on the same tree states, in the same run.
#
# Usage:  bench/prune.sh [--quick] [--s3] [--help]
#         --quick: 8 snapshots of a small tree (smoke run)
#         --s3:    repositories in an S3-compatible server on loopback (s3proxy)
# Env:    BENCH_DIR        work dir (default /var/tmp/haven-bench)
#         BENCH_TOOLS      subset of "haven restic" (default both)
#         BENCH_SNAPSHOTS  snapshots to take (default 20; 8 with --quick); half are forgotten
#         BENCH_PRUNE_DIRS kernel-tree folders copied as the starting tree
#                          (default "fs net kernel include sound Documentation", ~260 MiB)
#         BENCH_SRC        start from this directory instead (copied, never changed)
#         HAVEN            Haven command (default: <repo>/haven)
#
# See bench/README.md for details.
set -euo pipefail
export LC_ALL=C

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

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
BENCH_TOOLS="${BENCH_TOOLS:-haven restic}"
if [[ $QUICK == 1 ]]; then
  BENCH_SNAPSHOTS="${BENCH_SNAPSHOTS:-8}"
  BENCH_PRUNE_DIRS="${BENCH_PRUNE_DIRS:-fs}"
else
  BENCH_SNAPSHOTS="${BENCH_SNAPSHOTS:-20}"
  BENCH_PRUNE_DIRS="${BENCH_PRUNE_DIRS:-fs net kernel include sound Documentation}"
fi
HAVEN_DEFAULT=0
[[ -z ${HAVEN:-} ]] && HAVEN_DEFAULT=1
HAVEN="${HAVEN:-$REPO_ROOT/haven}"
PASSWORD="haven-bench-password"

# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh"

has_tool() { [[ " $BENCH_TOOLS " == *" $1 "* ]]; }
for t in $BENCH_TOOLS; do
  case "$t" in haven|restic) ;; *) die "BENCH_TOOLS: unknown tool '$t' (allowed: haven restic)";; esac
done
[[ $BENCH_SNAPSHOTS =~ ^[0-9]+$ && $BENCH_SNAPSHOTS -ge 2 ]] || die "BENCH_SNAPSHOTS must be at least 2 (got '$BENCH_SNAPSHOTS')"
KEEP=$(( BENCH_SNAPSHOTS / 2 ))

need_pkgs=()
[[ -x /usr/bin/time ]] || need_pkgs+=(time)
has_tool restic && ! command -v restic >/dev/null && need_pkgs+=(restic)
kernel_needed && need_pkgs+=(linux-source-6.1)
command -v python3 >/dev/null || need_pkgs+=(python3)
install_missing ${need_pkgs[@]+"${need_pkgs[@]}"}

mkdir -p "$BENCH_DIR"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd)"
LOG_DIR="$BENCH_DIR/logs"; mkdir -p "$LOG_DIR"
WORK="$BENCH_DIR/prune-work"
STATE="$BENCH_DIR/prune-state"
rm -rf "$WORK" "$STATE"; mkdir -p "$WORK" "$STATE"
cleanup() { s3_server_stop; rm -rf "$WORK" "$STATE" 2>/dev/null || true; }
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

# ------------------------------------------------------------ the tree ---
TREE="$WORK/tree"
mkdir -p "$TREE"
if [[ -n ${BENCH_SRC:-} ]]; then
  [[ -d $BENCH_SRC ]] || die "BENCH_SRC=$BENCH_SRC is not a directory"
  cp -a "$BENCH_SRC/." "$TREE/"
else
  KTREE="$(kernel_tree)"
  for d in $BENCH_PRUNE_DIRS; do
    [[ -d $KTREE/$d ]] || die "BENCH_PRUNE_DIRS: $KTREE/$d does not exist"
    cp -a "$KTREE/$d" "$TREE/"
  done
fi

bench_host_info
if [[ $BACKEND == s3 ]]; then
  S3_DATA="$WORK/s3data"
  s3_server_start "$S3_DATA"
fi
declare -A VERSION
warm_src="$TREE/fs"; [[ -d $warm_src ]] || warm_src="$REPO_ROOT/docs"
has_tool haven && haven_prepare "$warm_src"
has_tool restic && VERSION[restic]="$(restic version | head -n1)"

repo_location() {
  if [[ $BACKEND == s3 ]]; then printf 's3:%s/%s/%s' "$S3_ENDPOINT" "$S3_BUCKET" "$1"
  else printf '%s/%s-repo' "$WORK" "$1"; fi
}
repo_files() {
  if [[ $BACKEND == s3 ]]; then printf '%s/%s/%s' "$S3_DATA" "$S3_BUCKET" "$1"
  else printf '%s/%s-repo' "$WORK" "$1"; fi
}
repo_bytes() { du -sb "$(repo_files "$1")" | cut -f1; }

# Each tool runs with its own environment and caches (as one user would).
# argv TOOL: sets ARGV to the command line prefix (env + program) for TOOL.
argv() {
  case "$1" in
    haven)  ARGV=(env HAVEN_REPO="$(repo_location haven)" HAVEN_PASSWORD="$PASSWORD"
              XDG_CACHE_HOME="$STATE/haven/cache" "${HAVEN_CMD[@]}") ;;
    restic) ARGV=(env RESTIC_REPOSITORY="$(repo_location restic)" RESTIC_PASSWORD="$PASSWORD"
              RESTIC_CACHE_DIR="$STATE/restic/cache" restic) ;;
  esac
}
rm -rf "${HAVEN_CACHE_DIR:-/nonexistent}/repos"

read -r n0 b0 < <(tree_stats "$TREE")
log "backend=$BACKEND tools='$BENCH_TOOLS' snapshots=$BENCH_SNAPSHOTS keep=$KEEP"
log "starting tree: $TREE ($n0 files, $(( b0 / 1048576 )) MiB), changed before every snapshot but the first"

for t in $BENCH_TOOLS; do argv "$t"; run_quiet "$t init" "$LOG_DIR/prune-$t-init.log" "${ARGV[@]}" init; done

declare -A BACKUP_S
for t in $BENCH_TOOLS; do BACKUP_S[$t]=""; done
CHURN=()
for ((r = 1; r <= BENCH_SNAPSHOTS; r++)); do
  if (( r > 1 )); then
    CHURN+=("$(python3 "$SCRIPT_DIR/mutate-tree.py" "$TREE" "$r")")
  fi
  tar -C "$TREE" -cf - . | cat >/dev/null   # same warm page cache for every tool
  for t in $BENCH_TOOLS; do
    # restic and Haven both find the previous snapshot of the same path as parent
    argv "$t"
    run_timed "$t snapshot $r/$BENCH_SNAPSHOTS" "$LOG_DIR/prune-$t-backup.log" "${ARGV[@]}" backup "$TREE"
    BACKUP_S[$t]+="$T_WALL "
  done
done
read -r FINAL_N FINAL_B < <(tree_stats "$TREE")

declare -A SIZE_BEFORE SIZE_AFTER PRUNE_S PRUNE_CPU PRUNE_RSS FORGET_S CHECK_OK RESTORE_OK
for t in $BENCH_TOOLS; do
  log "== $t: forget all but the last $KEEP, then prune =="
  SIZE_BEFORE[$t]=$(repo_bytes "$t")
  argv "$t"
  run_timed "$t forget --keep-last $KEEP" "$LOG_DIR/prune-$t-forget.log" "${ARGV[@]}" forget --keep-last "$KEEP"
  FORGET_S[$t]=$T_WALL
  run_timed "$t prune" "$LOG_DIR/prune-$t-prune.log" "${ARGV[@]}" prune
  PRUNE_S[$t]=$T_WALL; PRUNE_CPU[$t]=$T_CPU; PRUNE_RSS[$t]=$T_RSS
  SIZE_AFTER[$t]=$(repo_bytes "$t")
  log "  repository: $(mib "${SIZE_BEFORE[$t]}") MiB -> $(mib "${SIZE_AFTER[$t]}") MiB"

  # correctness, untimed: every byte still authenticates, and the newest snapshot restores
  if "${ARGV[@]}" check --read-data >"$LOG_DIR/prune-$t-check.log" 2>&1; then CHECK_OK[$t]=yes
  else CHECK_OK[$t]=NO; log "  !!! $t check --read-data FAILED (see $LOG_DIR/prune-$t-check.log)"; fi
  dst="$WORK/$t-restore"; rm -rf "$dst"; mkdir -p "$dst"
  run_quiet "$t restore" "$LOG_DIR/prune-$t-restore.log" "${ARGV[@]}" restore latest --target "$dst"
  read -r n b < <(tree_stats "$dst")
  if [[ $n == "$FINAL_N" && $b == "$FINAL_B" ]]; then RESTORE_OK[$t]=yes
  else RESTORE_OK[$t]=NO; log "  !!! $t restore of the newest snapshot: $n files / $b bytes, expected $FINAL_N / $FINAL_B"; fi
  rm -rf "$dst"
done

# ------------------------------------------------------------------ report ---
mkdir -p "$SCRIPT_DIR/results"
suffix=""; [[ $BACKEND == s3 ]] && suffix="-s3"; [[ $QUICK == 1 ]] && suffix="$suffix-quick"
OUT_MD="$SCRIPT_DIR/results/prune-$DATE_TAG$suffix.md"
OUT_JSON="$SCRIPT_DIR/results/prune-$DATE_TAG$suffix.json"
sum() { awk '{s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.2f", s}' <<<"$1"; }
{
  echo "# Haven prune benchmark ($BACKEND repositories$([[ $QUICK == 1 ]] && echo ", quick"))"
  echo
  echo "- Date: $DATE_ISO"
  echo "- Host: nproc=$NPROC, CPU: $CPU_MODEL, RAM: $MEM_MIB MiB, kernel $KERNEL, disk $FS_TYPE"
  echo "- Tree: $n0 files, $(( b0 / 1048576 )) MiB at the start (kernel folders: $BENCH_PRUNE_DIRS); $FINAL_N files, $(( FINAL_B / 1048576 )) MiB at the end"
  echo "- $BENCH_SNAPSHOTS snapshots; before each but the first, \`bench/mutate-tree.py\` modified 4 %, deleted 1 % and added 1 % of the files (same seeds for every tool)"
  echo "- Then \`forget --keep-last $KEEP\` and \`prune\` with each tool's defaults (Haven: repack packs ≥ 20 % unused; restic: --max-unused 5 %)"
  for t in $BENCH_TOOLS; do echo "- $t: ${VERSION[$t]}"; done
  echo
  echo "| tool | prune s | prune CPU s | prune peak RSS MiB | repo before MiB | repo after MiB | freed MiB | forget s | $BENCH_SNAPSHOTS backups s | check --read-data | newest restores |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
  for t in $BENCH_TOOLS; do
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "${PRUNE_S[$t]}" "${PRUNE_CPU[$t]}" \
      "$(kib2mib "${PRUNE_RSS[$t]}")" "$(mib "${SIZE_BEFORE[$t]}")" "$(mib "${SIZE_AFTER[$t]}")" \
      "$(mib $(( SIZE_BEFORE[$t] - SIZE_AFTER[$t] )))" "${FORGET_S[$t]}" "$(sum "${BACKUP_S[$t]}")" \
      "${CHECK_OK[$t]}" "${RESTORE_OK[$t]}"
  done
  echo
  echo "Backup times per snapshot (s):"
  echo
  for t in $BENCH_TOOLS; do echo "- $t: ${BACKUP_S[$t]}"; done
  echo
  echo "Changes per round (mutate-tree.py): ${CHURN[0]:-none} … ${CHURN[-1]:-}"
  if (( ${#CLOCK_WARNINGS[@]} )); then
    echo; echo "**CLOCK WARNINGS:**"; for v in "${CLOCK_WARNINGS[@]}"; do echo "- $v"; done
  fi
} >"$OUT_MD"
{
  echo "{"
  echo "  \"benchmark\": \"prune\", \"backend\": $(json_str "$BACKEND"), \"date\": $(json_str "$DATE_ISO"),"
  echo "  \"snapshots\": $BENCH_SNAPSHOTS, \"kept\": $KEEP,"
  echo "  \"host\": {\"nproc\": $NPROC, \"cpu\": $(json_str "$CPU_MODEL"), \"mem_mib\": $MEM_MIB, \"kernel\": $(json_str "$KERNEL"), \"disk\": $(json_str "$FS_TYPE")},"
  echo "  \"tree\": {\"start_files\": $n0, \"start_bytes\": $b0, \"end_files\": $FINAL_N, \"end_bytes\": $FINAL_B},"
  echo "  \"tools\": {"
  sep=""
  for t in $BENCH_TOOLS; do
    printf '%s    %s: {"version": %s, "prune_s": %s, "prune_cpu_s": %s, "prune_peak_rss_kib": %s, "repo_bytes_before": %s, "repo_bytes_after": %s, "forget_s": %s, "backup_s": %s, "check_read_data_ok": %s, "newest_restores": %s}' \
      "$sep" "$(json_str "$t")" "$(json_str "${VERSION[$t]}")" "${PRUNE_S[$t]}" "${PRUNE_CPU[$t]}" "${PRUNE_RSS[$t]}" \
      "${SIZE_BEFORE[$t]}" "${SIZE_AFTER[$t]}" "${FORGET_S[$t]}" "$(json_arr ${BACKUP_S[$t]})" \
      "$([[ ${CHECK_OK[$t]} == yes ]] && echo true || echo false)" "$([[ ${RESTORE_OK[$t]} == yes ]] && echo true || echo false)"
    sep=$',\n'
  done
  echo
  echo "  }"
  echo "}"
} >"$OUT_JSON"

echo
cat "$OUT_MD"
echo
echo "Results written to: $OUT_MD"
echo "                    $OUT_JSON"
failed=0
for t in $BENCH_TOOLS; do [[ ${CHECK_OK[$t]} == yes && ${RESTORE_OK[$t]} == yes ]] || failed=1; done
(( failed == 0 )) || { echo "!!! a check or restore failed — see above" >&2; exit 2; }
