#!/usr/bin/env bash
# StarGAN v2 (Choi et al. 2020) on AFHQ: cat, dog and wild animal faces, each a domain. Download
# AFHQ yourself (see the StarGAN v2 repository) and pass its folder with --afhq_root; nothing is
# downloaded here. Any folder-per-domain set laid out as <root>/{train,val}/<domain>/ works too.
# Stages (select with --stage/--stop_stage):
#   0 check the download and write resized copies   1 training (resumes)
#   2 latent and reference grids of validation images   3 evaluation (domain accuracy, diversity)
set -euo pipefail

stage=0                         # first stage to run
stop_stage=3                    # last stage to run
afhq_root=                      # AFHQ folder with train/ and val/ (required for stage 0)
data=data/afhq                  # resized copy: data/afhq/{train,val}/<domain>/*.png
image_size=64                   # size of the copy (match data.image_size of the config)
conf=conf/stargan_v2.yaml       # training config (model: stargan_v2)
exp=exp/stargan_v2_afhq         # model bundle, grids and scores
max_steps=                      # training steps, overriding the config (empty: the config's)
seed=                           # training seed, overriding the config (empty: the config's)
grid_num=4                      # latent grid: styles per domain
grid_rows=6                     # inputs in the grids
eval_limit=500                  # validation images scored (0: all)
device=auto                     # auto | cpu | cuda[:N]

help_message="Usage: $0 --afhq_root /path/to/afhq [options]
Prepare AFHQ, train StarGAN v2 on cat/dog/wild, draw the paper's grids and score the outputs.
Example: bash run.sh --afhq_root /data/afhq --device cuda"
. "$(dirname "$0")/../../recipes/parse_options.sh"
if [ $# -ne 0 ]; then echo "$0: unexpected arguments: $*; see --help" >&2; exit 1; fi

case $afhq_root in /*|'') ;; *) afhq_root=$PWD/$afhq_root ;; esac  # before cd: relative to the caller
cd "$(dirname "$0")"
. ../../recipes/path.sh
. ../../recipes/cmd.sh
. ../../recipes/stages.sh
. ../../recipes/img_stages.sh

stage_0() {
  if [ -z "$afhq_root" ]; then echo "stage 0 needs --afhq_root (the AFHQ folder with train/ and val/)" >&2; exit 1; fi
  python3 local/prepare_afhq.py --afhq_root "$afhq_root" --out "$data" --image_size "$image_size"
}

# img_stage_train reads $data as the training root; the validation tree is the config's test_root.
stage_1() {
  local data=$data/train
  img_stage_train
}

# Grids of the first validation images of each domain; references: the next ones.
stage_2() {
  local inputs=() refs=() domains=() d n
  for d in $(cd "$data/val" && ls -d -- */ | tr -d /); do
    mapfile -t n < <(ls -- "$data/val/$d" | head -n $((grid_rows + 2)))
    inputs+=("$data/val/$d/${n[0]}" "$data/val/$d/${n[1]}")
    refs+=("$data/val/$d/${n[2]}" "$data/val/$d/${n[3]}")
  done
  vc-img-translate --model "$exp" --input "${inputs[@]:0:$grid_rows}" --latent --num "$grid_num" \
    --device "$device" --out "$exp/latent.png"
  vc-img-translate --model "$exp" --input "${inputs[@]:0:$grid_rows}" --ref "${refs[@]}" \
    --device "$device" --out "$exp/reference.png"
  echo "grids: $exp/latent.png, $exp/reference.png"
}

stage_3() {
  local data=$data/train
  img_stage_evaluate
}

run_stage 0 "check AFHQ, write resized copies" stage_0
run_stage 1 "training" stage_1
run_stage 2 "latent and reference grids" stage_2
run_stage 3 "evaluation" stage_3
