# How the recipes run their jobs (Kaldi's cmd.sh convention); sourced by every egs/*/run.sh from
# its recipe folder, after its options are parsed.
#   local (default): background processes on this machine, recipes/run_local.sh
#   slurm:           sbatch array jobs that the recipe waits for, recipes/run_slurm.sh
# Pick one with `VC_CMD_BACKEND=slurm bash run.sh ...`. Partition, account and the like come from
# sbatch's environment (SBATCH_PARTITION, SBATCH_ACCOUNT) or VC_SBATCH_ARGS. The commands are used
# as `$extract_cmd JOB=1:N LOG command args-with-JOB`.
#
# The Slurm resources of each kind of job are the *_slurm variables below; a recipe that needs
# others sets them before it sources this file (egs/vctk: a longer training), and the environment
# can too (`train_slurm="--gpu 2 --mem 32G --time 8:00:00" VC_CMD_BACKEND=slurm bash run.sh`).
: "${extract_slurm:=--mem 2G --time 1:00:00}"
: "${convert_slurm:=--mem 4G --time 1:00:00}"
: "${train_slurm:=--gpu 1 --num-threads 4 --mem 16G --time 4:00:00}"

case "${VC_CMD_BACKEND:-local}" in
  local)
    extract_cmd="../../recipes/run_local.sh"
    convert_cmd="../../recipes/run_local.sh"
    train_cmd="../../recipes/run_local.sh"
    ;;
  slurm)
    extract_cmd="../../recipes/run_slurm.sh $extract_slurm"
    convert_cmd="../../recipes/run_slurm.sh $convert_slurm"
    train_cmd="../../recipes/run_slurm.sh $train_slurm"
    ;;
  *)
    echo "recipes/cmd.sh: VC_CMD_BACKEND must be local or slurm, got '${VC_CMD_BACKEND}'" >&2
    exit 1
    ;;
esac
