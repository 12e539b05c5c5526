#!/usr/bin/env bash
# StarGAN v2 (Choi et al. 2020) on the rendered font set: the 3 families (Sans/Serif/Mono) are the
# domains; bold and oblique are never labelled, so the model must discover them as "style" and
# carry them over from a reference image. 13 glyphs are held out for testing. Training is 4000
# steps on one thread, and the evaluation judges train beside it on the other core; the whole
# recipe takes about 20 minutes on 2 CPU cores (RESULTS.md). Stages (select with --stage/--stop_stage):
#   0 render the font set   1 training   2 latent and reference grids of held-out glyphs
#   3 evaluation: domain accuracy, diversity, bold/oblique transfer from references, the recipe's
#     targets (local/targets.yaml) and exp/<name>/RESULTS.md
set -euo pipefail

stage=0                         # first stage to run
stop_stage=3                    # last stage to run
data=data/fonts16               # rendered font set (CelebA layout)
render_conf=conf/render.yaml    # what to render (glyphs, held-out glyphs, size, variants)
conf=conf/stargan_v2.yaml       # training config (model: stargan_v2)
exp=exp/stargan_v2_fonts        # model bundle, grids and scores
max_steps=                      # training steps, overriding the config (empty: the config's)
seed=                           # training seed, overriding the config (empty: the config's)
grid_num=4                      # latent grid: styles per domain
eval_limit=0                    # held-out images scored (0: all)
device=auto                     # auto | cpu | cuda[:N]
parallel_judges=true            # train the evaluation judges during training, on the core it leaves idle

help_message="Usage: $0 [options]
Render the font-style set, train StarGAN v2 on it (families as domains), draw the paper's grids
and score domain accuracy, diversity and reference style transfer.
Example: bash run.sh --stage 1 --max_steps 300 --exp exp/short"
. "$(dirname "$0")/../../recipes/parse_options.sh"
if [ $# -ne 0 ]; then echo "$0: unexpected arguments: $*; see --help" >&2; exit 1; fi

cd "$(dirname "$0")"
. ../../recipes/path.sh
. ../../recipes/cmd.sh
. ../../recipes/stages.sh
. ../../recipes/img_stages.sh

stage_0() {
  python3 -m vc.cli.img_prepare fonts --out "$data" --config "$render_conf"
}

# Held-out glyphs (never trained on): inputs in each family, references in assorted styles.
stage_2() {
  local img=$data/img_align_celeba
  # held-out glyphs only (G b Ж h Ω д as inputs; m w K ψ Ю δ as references)
  local inputs=("$img/u0047v0_Sans.png" "$img/u0062v0_Serif.png" "$img/u0416v0_Mono.png"
                "$img/u0068v0_Sans.png" "$img/u03a9v0_Serif.png" "$img/u0434v0_Mono.png")
  vc-img-translate --model "$exp" --input "${inputs[@]}" --latent --num "$grid_num" \
    --device "$device" --out "$exp/latent.png"
  vc-img-translate --model "$exp" --input "${inputs[@]}" --device "$device" --out "$exp/reference.png" \
    --ref "$img/u006dv0_Serif-Bold.png" "$img/u0077v0_Mono-Oblique.png" "$img/u004bv0_Sans-Bold-Oblique.png" \
          "$img/u03c8v0_Serif.png" "$img/u042ev0_Mono-Bold.png" "$img/u03b4v0_Sans-Oblique.png" \
    --ref-domain Serif,Mono,Sans,Serif,Mono,Sans
  echo "grids: $exp/latent.png (inputs x latent styles per domain), $exp/reference.png (inputs x references)"
}

stage_3() {
  img_stage_evaluate
  python3 ../../recipes/check_targets.py local/targets.yaml "$exp/eval.json"
}

run_stage 0 "render the font set" stage_0
run_stage 1 "training" img_stage_train
run_stage 2 "latent and reference grids" stage_2
run_stage 3 "evaluation" stage_3
