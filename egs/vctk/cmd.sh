# How this recipe runs its jobs (Kaldi's cmd.sh convention); sourced by run.sh.
#   local (default): background processes on this machine, recipes/run_local.sh
#   slurm:           sbatch array jobs that the recipe waits for, recipes/run_slurm.sh
# Pick one with `VC_CMD_BACKEND=slurm bash run.sh ...`, or change the default below. Partition,
# account and the like come from sbatch's environment (SBATCH_PARTITION, SBATCH_ACCOUNT) or
# VC_SBATCH_ARGS. The commands are used as `$extract_cmd JOB=1:N LOG command args-with-JOB`.
case "${VC_CMD_BACKEND:-local}" in
  local)
    extract_cmd="../../recipes/run_local.sh"
    convert_cmd="../../recipes/run_local.sh"
    train_cmd="../../recipes/run_local.sh"
    ;;
  slurm)
    extract_cmd="../../recipes/run_slurm.sh --mem 2G --time 1:00:00"
    convert_cmd="../../recipes/run_slurm.sh --mem 4G --time 1:00:00"
    train_cmd="../../recipes/run_slurm.sh --gpu 1 --num-threads 4 --mem 16G --time 24:00:00"
    ;;
  *)
    echo "cmd.sh: VC_CMD_BACKEND must be local or slurm, got '${VC_CMD_BACKEND}'" >&2
    exit 1
    ;;
esac
