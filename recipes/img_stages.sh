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
#
# With parallel_judges=true (a recipe whose config trains on trainer.cpu_threads: 1 declares it)
# and 2 or more cores, the training stage also trains the evaluation judges (vc-img-judges) on a
# core the model leaves idle, so that the evaluation stage only scores. Otherwise the evaluation
# stage trains them, as it does whenever they are missing.

# img_stage_train: train StarGAN into $exp (resumes from its checkpoint).
img_stage_train() {
  local stamp=$exp/.train.done key="max_steps=$max_steps seed=$seed data=$data"
  local inputs=("$conf" "$data/list_attr_celeba.txt")
  if stamp_ok "$stamp" "$key" "${inputs[@]}" "$exp/checkpoints/latest"; then
    echo "$exp is trained ($(cat "$exp/checkpoints/latest")); delete $stamp to train again"
    return 0
  fi
  local common=(--config "$conf" --exp "$exp" --device "$device" -o "data.root=$data")
  [ -z "$seed" ] || common+=(-o "seed=$seed")
  local args=("${common[@]}")
  [ -z "$max_steps" ] || args+=(-o "trainer.max_steps=$max_steps")
  if [ -f "$exp/checkpoints/latest" ]; then
    echo "resuming from $exp/checkpoints/$(cat "$exp/checkpoints/latest")"
    args+=(--resume)
  fi
  local judges_pid=""
  # the cores this process may use (nproc alone would obey an exported OMP_NUM_THREADS)
  if [ "${parallel_judges:-false}" = true ] && [ "$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)" -ge 2 ]; then
    echo "training the evaluation judges beside the model (log: $stage_log_dir/train/$(basename -- "$exp").judges.log)"
    $train_cmd "$stage_log_dir/train/$(basename -- "$exp").judges.log" vc-img-judges "${common[@]}" > /dev/null 2>&1 &
    judges_pid=$!
  fi
  local status=0
  $train_cmd "$stage_log_dir/train/$(basename -- "$exp").log" vc-img-train "${args[@]}" || status=$?
  if [ -n "$judges_pid" ]; then
    if [ "$status" -ne 0 ]; then
      kill "$judges_pid" 2>/dev/null || true
    fi
    # judges that failed are not fatal here: the evaluation stage trains missing ones itself
    wait "$judges_pid" || echo "the judges did not finish beside training (see $stage_log_dir/train/$(basename -- "$exp").judges.log);" \
      "the evaluation stage will train them" >&2
  fi
  [ "$status" -eq 0 ] || return "$status"
  stamp_write "$stamp" "$key" "${inputs[@]}" "$exp/checkpoints/latest"
}

# img_stage_grid: StarGAN's Figure 4 for $grid_rows held-out images.
img_stage_grid() {
  vc-img-translate --model "$exp" --grid --data "$data" --num "$grid_rows" --out "$exp/grid.png"
  echo "grid: $exp/grid.png"
}

# img_stage_evaluate: attribute accuracy (and L1/PSNR to ground truth where the data has it) of
# the translations vs the identity baseline (StarGAN; StarGAN v2: domain accuracy, diversity,
# style transfer); trains the judging classifiers on first use. Writes $exp/eval.{json,txt} and
# $exp/RESULTS.md (environment and tables, from eval.json; copy it to the recipe's RESULTS.md to
# publish a run).
img_stage_evaluate() {
  local stamp=$exp/.evaluate.done key="limit=$eval_limit data=$data"
  if stamp_ok "$stamp" "$key" "$exp/checkpoints/latest" "$exp/eval.json"; then
    echo "$exp/eval.json is up to date; the table:"
    cat "$exp/eval.txt"
    [ -f "$exp/RESULTS.md" ] || vc-evaluate --results-md "$exp/RESULTS.md" "$exp/eval.json"
    return 0
  fi
  vc-img-evaluate --model "$exp" --data "$data" --limit "$eval_limit" --device "$device" \
    --out "$exp/eval.json" | tee "$exp/eval.txt.tmp"
  mv -f -- "$exp/eval.txt.tmp" "$exp/eval.txt"
  vc-evaluate --results-md "$exp/RESULTS.md" "$exp/eval.json"
  stamp_write "$stamp" "$key" "$exp/checkpoints/latest" "$exp/eval.json"
}
