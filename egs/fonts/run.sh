#!/usr/bin/env bash
# Font-style recipe: StarGAN (Choi et al. 2018) on a multi-attribute image set rendered on the
# spot from the DejaVu fonts that matplotlib ships: 3 families (Sans/Serif/Mono, exclusive like
# hair colour) x bold x oblique = 12 styles of 80 glyphs (3 renderings each), 13 held out for
# testing. Every glyph exists in every style, so each translation has an exact ground truth.
# Finishes on 2 CPU cores in about 10-15 minutes (RESULTS.md).
# Stages (select with --stage/--stop_stage):
#   0 render the font set   1 training   2 Figure-4 grid of held-out glyphs
#   3 evaluation: attribute accuracy + L1/PSNR to the ground truth, vs the identity baseline, the
#     recipe's targets (local/targets.yaml) and exp/<name>/RESULTS.md
set -euo pipefail

stage=0                      # first stage to run
stop_stage=3                 # last stage to run
data=data/fonts              # rendered font set (CelebA layout)
render_conf=conf/render.yaml # what to render (glyphs, held-out glyphs, size, colour)
conf=conf/train.yaml         # training config
exp=exp/stargan_fonts        # model bundle, grid and scores
max_steps=                   # training steps, overriding the config (empty: the config's)
seed=                        # training seed, overriding the config (empty: the config's)
grid_rows=8                  # rows of the grid (held-out images, evenly spread)
eval_limit=0                 # held-out images to score (0: all)
device=auto                  # auto | cpu | cuda[:N]

help_message="Usage: $0 [options]
Render a font-style image set, train StarGAN on it, draw a grid and score the translations.
Example: bash run.sh --stage 1 --max_steps 500 --exp exp/short"
. "$(dirname "$0")/../../recipes/parse_options.sh"
if [ $# -ne 0 ]; then echo "$0: unexpected arguments: $*; see --help" >&2; exit 1; fi

cd "$(dirname "$0")"
. ../../recipes/path.sh
. ../../recipes/cmd.sh
. ../../recipes/stages.sh
. ../../recipes/img_stages.sh

# Stage 0: render (a folder rendered with the same settings is kept; other settings are an error).
stage_0() {
  python3 -m vc.cli.img_prepare fonts --out "$data" --config "$render_conf"
}

# Stage 3 adds the targets of the recipe to the evaluation table.
stage_3() {
  img_stage_evaluate
  python3 ../../recipes/check_targets.py local/targets.yaml "$exp/eval.json"
}

run_stage 0 "render the font set" stage_0
run_stage 1 "training" img_stage_train
run_stage 2 "grid of held-out glyphs" img_stage_grid
run_stage 3 "evaluation" stage_3
