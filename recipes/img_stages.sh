# Training, grid and evaluation stages of every image recipe (egs/fonts, egs/celeba), written once
# so that the recipes cannot drift apart; each recipe supplies its data stage and calls these with
# run_stage (recipes/stages.sh). Source after cmd.sh and stages.sh.
#
# Reads these variables (the recipe's options and cmd.sh):
#   data        prepared data folder (CelebA layout)
#   conf        training config;  exp: the model bundle folder
#   max_steps   training steps override (empty: the config's);  seed: training seed (empty: config's)
#   grid_rows   rows of the Figure-4 grid;  eval_limit: held-out images scored (0: all)
#   device      auto | cpu | cuda[:N]
#   train_cmd   job runner (recipes/run_local.sh or run_slurm.sh)
#
# A rerun skips a stage whose stamp matches its inputs; an interrupted training resumes from its
# newest checkpoint (vc-img-train --resume), and vc-img-evaluate reuses a trained classifier.

# img_stage_train: train StarGAN into $exp (resumes from its checkpoint).
img_stage_train() {
  local stamp=$exp/.train.done key="max_steps=$max_steps seed=$seed data=$data"
  local inputs=("$conf" "$data/list_attr_celeba.txt")
  if stamp_ok "$stamp" "$key" "${inputs[@]}" "$exp/checkpoints/latest"; then
    echo "$exp is trained ($(cat "$exp/checkpoints/latest")); delete $stamp to train again"
    return 0
  fi
  local args=(--config "$conf" --exp "$exp" --device "$device" -o "data.root=$data")
  [ -z "$max_steps" ] || args+=(-o "trainer.max_steps=$max_steps")
  [ -z "$seed" ] || args+=(-o "seed=$seed")
  if [ -f "$exp/checkpoints/latest" ]; then
    echo "resuming from $exp/checkpoints/$(cat "$exp/checkpoints/latest")"
    args+=(--resume)
  fi
  $train_cmd "$stage_log_dir/train/$(basename -- "$exp").log" vc-img-train "${args[@]}"
  stamp_write "$stamp" "$key" "${inputs[@]}" "$exp/checkpoints/latest"
}

# img_stage_grid: StarGAN's Figure 4 for $grid_rows held-out images.
img_stage_grid() {
  vc-img-translate --model "$exp" --grid --data "$data" --num "$grid_rows" --out "$exp/grid.png"
  echo "grid: $exp/grid.png"
}

# img_stage_evaluate: attribute accuracy (and L1/PSNR to ground truth where the data has it) of
# the translations vs the identity baseline; trains the judging classifier on first use.
img_stage_evaluate() {
  local stamp=$exp/.evaluate.done key="limit=$eval_limit data=$data"
  if stamp_ok "$stamp" "$key" "$exp/checkpoints/latest" "$exp/eval.json"; then
    echo "$exp/eval.json is up to date; the table:"
    cat "$exp/eval.txt"
    return 0
  fi
  vc-img-evaluate --model "$exp" --data "$data" --limit "$eval_limit" --device "$device" \
    --out "$exp/eval.json" | tee "$exp/eval.txt.tmp"
  mv -f -- "$exp/eval.txt.tmp" "$exp/eval.txt"
  stamp_write "$stamp" "$key" "$exp/checkpoints/latest" "$exp/eval.json"
}
