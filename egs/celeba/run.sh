#!/usr/bin/env bash
# CelebA recipe: StarGAN (Choi et al. 2018) on 5 CelebA attributes (Black/Blond/Brown hair,
# Male, Young) at 128 px, with the paper's settings (conf/train.yaml). CelebA is not downloaded
# here: point --celeba_root at a folder with img_align_celeba/ and list_attr_celeba.txt.
# Stages (select with --stage/--stop_stage):
#   0 check CelebA and write a center-cropped (178), resized copy with a fixed test split
#     (the first 2000 images, as the original StarGAN; --use_partition_file true: CelebA's own)
#   1 training   2 Figure-4 grid of held-out faces   3 evaluation (attribute accuracy vs identity)
set -euo pipefail

stage=0                      # first stage to run
stop_stage=3                 # last stage to run
celeba_root=                 # CelebA folder (img_align_celeba/, list_attr_celeba.txt); needed by stage 0
data=data/celeba             # prepared copy (CelebA layout, PNG)
image_size=128               # prepared image size (must match the config's data.image_size)
crop_size=178                # center crop before resizing (must match the config's data.crop_size)
test_count=2000              # the first N images are the test set
use_partition_file=false     # use list_eval_partition.txt (2 = test) instead of test_count
limit=0                      # prepare only the first N images (0: all; for quick trials)
nj=4                         # parallel jobs of stage 0
conf=conf/train.yaml         # training config
exp=exp/stargan_celeba       # model bundle, grid and scores
max_steps=                   # training steps, overriding the config (empty: the config's)
seed=                        # training seed, overriding the config (empty: the config's)
grid_rows=8                  # rows of the grid
eval_limit=2000              # held-out images to score (0: all)
device=auto                  # auto | cpu | cuda[:N]

help_message="Usage: $0 --celeba_root DIR [options]
Prepare CelebA, train StarGAN on 5 attributes, draw a grid and score the translations.
Example: bash run.sh --celeba_root /data/CelebA --nj 8"
. "$(dirname "$0")/../../recipes/parse_options.sh"
if [ $# -ne 0 ]; then echo "$0: unexpected arguments: $*; see --help" >&2; exit 1; fi

cd "$(dirname "$0")"
. ../../recipes/path.sh
. ../../recipes/cmd.sh
. ../../recipes/stages.sh
. ../../recipes/img_stages.sh

# Stage 0: a checked, cropped and resized copy; an interrupted run resumes (finished images are kept).
stage_0() {
  if [ -z "$celeba_root" ]; then
    echo "stage 0 needs --celeba_root (a folder with img_align_celeba/ and list_attr_celeba.txt)" >&2
    return 1
  fi
  local key="root=$celeba_root size=$image_size crop=$crop_size test=$test_count part=$use_partition_file limit=$limit"
  if stamp_ok "$data/.prepare.done" "$key" "$celeba_root/list_attr_celeba.txt"; then
    echo "$data is up to date"
    return 0
  fi
  local args=(--root "$celeba_root" --out "$data" --image-size "$image_size" --crop-size "$crop_size"
    --test-count "$test_count" --limit "$limit" --nj "$nj")
  [ "$use_partition_file" = false ] || args+=(--use-partition-file)
  python3 -m vc.cli.img_prepare celeba "${args[@]}"
  stamp_write "$data/.prepare.done" "$key" "$celeba_root/list_attr_celeba.txt"
}

run_stage 0 "prepare CelebA" stage_0
run_stage 1 "training" img_stage_train
run_stage 2 "grid of held-out faces" img_stage_grid
run_stage 3 "evaluation" img_stage_evaluate
