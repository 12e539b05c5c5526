#!/usr/bin/env bash
# Run a command as a Slurm job (array), with the interface of run_local.sh / Kaldi's queue.pl:
#
#   run_slurm.sh [options] JOB=1:N LOG command args...     # array job, tasks 1..N
#   run_slurm.sh [options] LOG command args...             # one job
#
# Writes a batch script to <log dir>/q/<name>.sh and submits it with `sbatch --wait`, so the
# recipe blocks until every task has finished, as with run_local.sh. In each task the job
# variable (JOB) in LOG and in the arguments becomes $SLURM_ARRAY_TASK_ID, the command runs from
# the current directory with the submitting shell's environment (sbatch's default
# --export=ALL carries PATH, hence the virtual environment), and its output goes to its own log.
# Slurm's own output for each task is in <log dir>/q/<name>.<jobid>_<task>.out.
#
# Exit status: 0 if sbatch and every task succeeded, else 1 with the failed tasks listed.
#
# Options:
#   --num-threads T   --cpus-per-task=T (and OMP_NUM_THREADS/MKL_NUM_THREADS in the task)
#   --mem M           --mem=M (e.g. 4G)
#   --gpu G           --gres=gpu:G
#   --time T          --time=T (e.g. 4:00:00)
#   --max-jobs-run K  --array=1-N%K (at most K tasks at once)
#   --partition P     --partition=P
# Other sbatch settings come from sbatch's own environment variables, e.g. SBATCH_ACCOUNT,
# SBATCH_PARTITION, SBATCH_QOS, or from VC_SBATCH_ARGS (extra arguments, split on spaces).
set -u
prog=$(basename -- "$0")

usage() {
  sed -n '2,/^set -u/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

sbatch_args=() num_threads="" max_jobs=""
while [ $# -gt 0 ]; do
  case $1 in
    --num-threads) num_threads=${2:?--num-threads needs a value}; sbatch_args+=("--cpus-per-task=$2"); shift 2 ;;
    --mem) sbatch_args+=("--mem=${2:?--mem needs a value}"); shift 2 ;;
    --gpu) [ "${2:?--gpu needs a value}" = 0 ] || sbatch_args+=("--gres=gpu:$2"); shift 2 ;;
    --time) sbatch_args+=("--time=${2:?--time needs a value}"); shift 2 ;;
    --partition) sbatch_args+=("--partition=${2:?--partition needs a value}"); shift 2 ;;
    --max-jobs-run) max_jobs=${2:?--max-jobs-run needs a value}; shift 2 ;;
    --help|-h) usage ;;
    --*) echo "$prog: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ -n "${VC_SBATCH_ARGS:-}" ]; then
  read -r -a extra <<< "$VC_SBATCH_ARGS"
  sbatch_args+=("${extra[@]}")
fi

. "$(dirname -- "${BASH_SOURCE[0]}")/job_spec.sh"
parse_job_spec "$@"
set -- "${job_cmd[@]}"
command -v sbatch > /dev/null || { echo "$prog: sbatch not found; is this a Slurm submit host?" >&2; exit 1; }

# The batch script lives next to the logs: q/<log name with the job variable removed>.sh
log_dir=$(dirname -- "$log_template")
name=$(basename -- "$log_template" .log)
if [ -n "$job_var" ]; then
  log_dir=${log_dir//"$job_var"/all}
  name=${name//".$job_var"/}
  name=${name//"$job_var"/}
fi
qdir=$log_dir/q
mkdir -p "$qdir"
script=$qdir/$name.sh

{
  echo '#!/usr/bin/env bash'
  echo "# written by $prog; submitted with sbatch --wait"
  printf 'cd %q || exit 1\n' "$PWD"
  if [ -n "$job_var" ]; then
    echo 'task=${SLURM_ARRAY_TASK_ID:?not running as a Slurm array task}'
  fi
  printf 'log=%q\n' "$log_template"
  printf 'cmd=('; printf ' %q' "$@"; echo ' )'
  if [ -n "$job_var" ]; then
    printf 'log=${log//%q/$task}\n' "$job_var"
    printf 'cmd=("${cmd[@]//%q/$task}")\n' "$job_var"
  fi
  [ -n "$num_threads" ] && printf 'export OMP_NUM_THREADS=%q MKL_NUM_THREADS=%q\n' "$num_threads" "$num_threads"
  cat << 'EOF'
mkdir -p "$(dirname -- "$log")"
{ printf '#'; printf ' %q' "${cmd[@]}"; echo; echo "# Started at $(date) on $(hostname), Slurm job ${SLURM_JOB_ID:-?}"; } > "$log"
t0=$(date +%s)
"${cmd[@]}" >> "$log" 2>&1
rc=$?
{ echo "# Accounting: time=$(($(date +%s) - t0)) threads=${SLURM_CPUS_PER_TASK:-1}"; echo "# Ended (code $rc) at $(date)"; } >> "$log"
exit $rc
EOF
} > "$script.tmp.$$" && mv -f -- "$script.tmp.$$" "$script"

submit=(sbatch --wait --parsable "--job-name=$name")
if [ -n "$job_var" ]; then
  array="--array=$first-$last"
  [ -n "$max_jobs" ] && array+="%$max_jobs"
  submit+=("$array" "--output=$qdir/$name.%A_%a.out")
else
  submit+=("--output=$qdir/$name.%j.out")
fi
submit+=("${sbatch_args[@]}" "$script")

echo "$prog: submitting ${submit[*]} (logs: $log_template)" >&2
"${submit[@]}"
rc=$?

# sbatch --wait reports the highest task exit code; the logs say which tasks failed.
failed=()
for ((i = first; i <= last; i++)); do
  log=$log_template
  [ -n "$job_var" ] && log=${log_template//"$job_var"/$i}
  if ! tail -n 1 -- "$log" 2> /dev/null | grep -q '^# Ended (code 0)'; then
    failed+=("$i")
  fi
done
if [ "$rc" -ne 0 ] || [ ${#failed[@]} -gt 0 ]; then
  if [ -n "$job_var" ]; then
    echo "$prog: sbatch exit $rc; ${#failed[@]} of $((last - first + 1)) tasks failed or did not finish ($job_var=${failed[*]}); logs: $log_template, Slurm output: $qdir/" >&2
  else
    echo "$prog: sbatch exit $rc; the job failed or did not finish; log: $log_template, Slurm output: $qdir/" >&2
  fi
  exit 1
fi
exit 0
