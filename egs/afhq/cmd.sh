# How this recipe runs its training job (Kaldi's cmd.sh convention); sourced by run.sh.
#   local (default): on this machine, recipes/run_local.sh;  slurm: recipes/run_slurm.sh
# Pick one with `VC_CMD_BACKEND=slurm bash run.sh ...`.
case "${VC_CMD_BACKEND:-local}" in
  local) train_cmd="../../recipes/run_local.sh" ;;
  slurm) train_cmd="../../recipes/run_slurm.sh --gpu 1 --num-threads 4 --mem 16G --time 4:00:00" ;;
  *)
    echo "cmd.sh: VC_CMD_BACKEND must be local or slurm, got '${VC_CMD_BACKEND}'" >&2
    exit 1
    ;;
esac
