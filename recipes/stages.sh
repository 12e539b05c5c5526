# Numbered recipe stages with banners, timing, per-stage logs and a final summary. Source it
# after parse_options.sh (it needs the options `stage` and `stop_stage`).
#
#   stage_1() { vc-extract ...; }           # one function per stage
#   run_stage 1 "feature extraction" stage_1
#
# run_stage runs the function when stage <= N <= stop_stage, in a subshell with `set -e`, its
# output shown and appended to $stage_log_dir/stageN.log (default exp/logs). The subshell is
# the point: a failing command anywhere in the stage stops that stage with its exit code, the
# failure is logged and timed, and stages can only hand results to each other through files,
# which is what makes any stage rerunnable alone. On exit a table of the stages run is printed.
#
# Stamps: a stage whose CLIs are not cheap to rerun skips its work when a stamp file matches a
# signature of its inputs (option values and the contents of small files such as wav.scp or the
# config). A changed option or input changes the signature, so the work is redone, never stale:
#   stamp_ok dump/train/.done "key" conf/feats.yaml data/train/wav.scp || { ...; stamp_write ...; }

: "${stage_log_dir:=exp/logs}"
_stages_summary=()
_stages_current=""  # "N|description|start" while a stage runs, for the summary of an interrupted run
_stages_t0=$(date +%s.%N)

# stage_selected N: true when N lies in [stage, stop_stage].
stage_selected() {
  [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]
}

_stages_elapsed() {
  LC_ALL=C awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# run_stage N DESCRIPTION FUNCTION [ARGS...]
run_stage() {
  local n=$1 desc=$2
  shift 2
  stage_selected "$n" || return 0
  mkdir -p "$stage_log_dir"
  local log="$stage_log_dir/stage$n.log" t0 rc errexit=0 name
  t0=$(date +%s.%N)
  {
    echo "==== stage $n: $desc ($(date '+%F %T')) ===="
    echo "# command: ${recipe_cmdline:-$0}"
    printf '# options:'
    for name in "${recipe_options[@]}"; do printf ' %s=%q' "$name" "${!name}"; done
    echo
  } | tee -a "$log"
  [[ $- == *e* ]] && errexit=1
  set +e
  _stages_current="$n|$desc|$t0"
  ( set -e; "$@" ) 2>&1 | tee -a "$log"
  rc=${PIPESTATUS[0]}
  _stages_current=""
  [ "$errexit" = 1 ] && set -e
  local secs
  secs=$(_stages_elapsed "$t0")
  if [ "$rc" -ne 0 ]; then
    _stages_summary+=("$(printf '%-6s %-40s %9s s  FAILED (exit %d)' "$n" "$desc" "$secs" "$rc")")
    echo "==== stage $n FAILED (exit $rc) after $secs s; log: $log ====" | tee -a "$log" >&2
    exit "$rc"
  fi
  _stages_summary+=("$(printf '%-6s %-40s %9s s  ok' "$n" "$desc" "$secs")")
  echo "==== stage $n done in $secs s ====" | tee -a "$log"
}

_stages_print_summary() {
  local rc=$? line n desc t0
  if [ -n "$_stages_current" ]; then  # killed or interrupted inside a stage
    IFS='|' read -r n desc t0 <<< "$_stages_current"
    _stages_summary+=("$(printf '%-6s %-40s %9s s  INTERRUPTED' "$n" "$desc" "$(_stages_elapsed "$t0")")")
  fi
  [ ${#_stages_summary[@]} -gt 0 ] || return "$rc"
  echo
  echo "Stage timing (logs in $stage_log_dir/):"
  printf '%-6s %-40s %11s\n' stage description time
  for line in "${_stages_summary[@]}"; do echo "$line"; done
  printf '%-6s %-40s %9s s\n' total "" "$(_stages_elapsed "$_stages_t0")"
  return "$rc"
}
trap _stages_print_summary EXIT

# stamp_signature KEY [FILE...]: checksum of KEY and the named files' paths and contents
# (a missing file counts as such, so the signature changes when it appears).
stamp_signature() {
  local key=$1 f
  shift
  {
    printf '%s\n' "$key"
    for f in "$@"; do
      if [ -f "$f" ]; then printf '== %s\n' "$f"; cat -- "$f"; else printf '== %s (missing)\n' "$f"; fi
    done
  } | md5sum | cut -d' ' -f1
}

# stamp_ok STAMP KEY [FILE...]: true when STAMP holds the current signature (work already done).
stamp_ok() {
  local file=$1
  shift
  [ -f "$file" ] && [ "$(cat -- "$file")" = "$(stamp_signature "$@")" ]
}

# stamp_write STAMP KEY [FILE...]: record that the work described by KEY and FILEs is done.
stamp_write() {
  local file=$1 sig
  shift
  sig=$(stamp_signature "$@")
  mkdir -p "$(dirname -- "$file")"
  printf '%s\n' "$sig" > "$file.tmp.$$" && mv -f -- "$file.tmp.$$" "$file"
}
