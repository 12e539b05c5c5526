# Shared by recipes/run_local.sh and recipes/run_slurm.sh (sourced; not run on its own).
# parse_job_spec ARGS...: reads the Kaldi-style "[JOB=a:b] LOG command..." arguments and sets
# job_var, first, last, log_template and the array job_cmd. Exits 2 on a malformed spec, and
# calls the runner's usage when the log or the command is missing. Needs $prog.
parse_job_spec() {
  job_var="" first=1 last=1
  if [[ ${1:-} =~ ^([A-Z][A-Z0-9_]*)=([0-9]+):([0-9]+)$ ]]; then
    job_var=${BASH_REMATCH[1]} first=${BASH_REMATCH[2]} last=${BASH_REMATCH[3]}
    shift
    if [ "$first" -gt "$last" ]; then
      echo "$prog: empty job range $job_var=$first:$last" >&2; exit 2
    fi
  fi
  [ $# -ge 2 ] || usage
  log_template=$1
  shift
  if [ -n "$job_var" ] && [ "$first" -ne "$last" ] && [[ $log_template != *"$job_var"* ]]; then
    echo "$prog: the log name '$log_template' must contain $job_var, or the $((last - first + 1)) jobs would share one log" >&2
    exit 2
  fi
  job_cmd=("$@")
}
