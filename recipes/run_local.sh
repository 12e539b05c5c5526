#!/usr/bin/env bash
# Run a command as N parallel jobs on this machine, with Kaldi's run.pl interface:
#
#   run_local.sh [options] JOB=1:N LOG command args...     # N jobs, JOB replaced by 1..N
#   run_local.sh [options] LOG command args...             # one job
#
# Every occurrence of the job variable (JOB in JOB=1:N; any upper-case name works) in LOG and in
# the arguments is replaced by the job number, so `--shard JOB` and `log/extract.JOB.log` give
# each job its shard and its own log. The command runs as given (no shell re-parsing), so paths
# with spaces are safe; wrap it in `bash -c '...'` for pipes.
#
# Each log starts with the command and ends with "# Ended (code C)". A single job's output is
# also shown on the terminal (training progress); an array's is not (N interleaved outputs would
# be unreadable). Exit status: 0 if every job succeeded, else 1 with the failed jobs listed and
# the end of the first failed log printed.
#
# Options (the same as run_slurm.sh, so cmd.sh lines are interchangeable):
#   --num-threads T   sets OMP_NUM_THREADS/MKL_NUM_THREADS for each job
#   --max-jobs-run K  at most K jobs at a time (default: all N)
#   --mem M, --gpu G, --time T   accepted for compatibility with run_slurm.sh; not enforced here
set -u
prog=$(basename -- "$0")

usage() {
  sed -n '2,/^set -u/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

num_threads="" max_jobs=0
while [ $# -gt 0 ]; do
  case $1 in
    --num-threads) num_threads=${2:?--num-threads needs a value}; shift 2 ;;
    --max-jobs-run) max_jobs=${2:?--max-jobs-run needs a value}; shift 2 ;;
    --mem|--gpu|--time) [ $# -ge 2 ] || usage; shift 2 ;;
    --help|-h) usage ;;
    --*) echo "$prog: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done

. "$(dirname -- "${BASH_SOURCE[0]}")/job_spec.sh"
parse_job_spec "$@"
set -- "${job_cmd[@]}"
[ -n "$num_threads" ] && export OMP_NUM_THREADS=$num_threads MKL_NUM_THREADS=$num_threads

# run_job I: run the command for job I into its log; exit status is the command's.
run_job() {
  local i=$1 log=$log_template t0 rc
  local cmd=("${command[@]}")
  if [ -n "$job_var" ]; then
    log=${log//"$job_var"/$i}
    cmd=("${cmd[@]//"$job_var"/$i}")
  fi
  mkdir -p "$(dirname -- "$log")" || return 1
  {
    printf '#'; printf ' %q' "${cmd[@]}"; echo
    echo "# Started at $(date) on $(hostname)"
  } > "$log"
  t0=$(date +%s)
  if [ "$tee_output" = 1 ]; then
    "${cmd[@]}" 2>&1 | tee -a "$log"
    rc=${PIPESTATUS[0]}
  else
    "${cmd[@]}" >> "$log" 2>&1
    rc=$?
  fi
  {
    echo "# Accounting: time=$(($(date +%s) - t0)) threads=${num_threads:-1}"
    echo "# Ended (code $rc) at $(date)"
  } >> "$log"
  return "$rc"
}

command=("$@")
tee_output=0
[ "$first" -eq "$last" ] && tee_output=1

pids=() ids=()
trap 'kill "${pids[@]}" 2>/dev/null; exit 130' INT TERM
for ((i = first; i <= last; i++)); do
  if [ "$max_jobs" -gt 0 ]; then
    while [ "$(jobs -rp | wc -l)" -ge "$max_jobs" ]; do wait -n; done
  fi
  run_job "$i" &
  pids+=($!) ids+=("$i")
done

failed=()
for k in "${!pids[@]}"; do
  wait "${pids[$k]}" || failed+=("${ids[$k]}")
done
trap - INT TERM

if [ ${#failed[@]} -gt 0 ]; then
  first_log=$log_template
  [ -n "$job_var" ] && first_log=${log_template//"$job_var"/${failed[0]}}
  n=$((last - first + 1))
  if [ -n "$job_var" ]; then
    echo "$prog: ${#failed[@]} of $n jobs failed ($job_var=${failed[*]}); first failed log: $first_log" >&2
  else
    echo "$prog: the job failed; log: $first_log" >&2
  fi
  if [ "$tee_output" = 0 ]; then
    echo "---- end of $first_log ----" >&2
    tail -n 20 -- "$first_log" >&2
  fi
  exit 1
fi
exit 0
