# Put the toolkit's commands on PATH for a recipe; sourced by egs/*/run.sh from the recipe folder.
# The repository's .venv (made by `make env`) wins when it exists, so `bash run.sh` works without
# activating anything; otherwise the vc-* commands must already be installed (pip install -e .).
_path_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -x "$_path_repo/.venv/bin/python" ]; then
  PATH="$_path_repo/.venv/bin:$PATH"
fi
unset _path_repo
# Python's stdout is block-buffered in a pipe: unbuffered, stage logs show progress as it happens.
export PATH PYTHONUNBUFFERED=1
if ! command -v vc-prepare-data > /dev/null; then
  echo "$(basename -- "$0"): the vc-* commands are not on PATH; run 'make env' in the repository" \
    "or activate the environment where stargan-vc is installed (pip install -e .)" >&2
  exit 1
fi
