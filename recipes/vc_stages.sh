# Stages 1-5 of every voice-conversion recipe (egs/*/run.sh), written once so that the recipes
# cannot drift apart; each recipe supplies stage 0 (its corpus-specific data preparation) and
# calls these with run_stage (recipes/stages.sh), ESPnet-style. Source after cmd.sh.
#
# Reads these variables (the recipe's options and cmd.sh):
#   nj          jobs (shards) for extraction and conversion
#   exp         experiment folder: the model bundle, conversions, scores, sample page
#   conf        training config;  feats_conf: feature config;  seed: training seed (train_seed, when
#               set, overrides it for training only)
#   max_steps   training steps override (empty: the config's)
#   train_threads   CPU threads for training (optional; empty: the config's)
#   speaker_encoder   vc-evaluate --speaker-encoder (resemblyzer, mfcc or none)
#   convert_precision vc-convert --precision of stage 4 (fp32 unless set: the scored network is then
#               the same on every CPU, where auto would run it in bf16 on CPUs with AMX)
#   extract_cmd, convert_cmd, train_cmd   job runners (recipes/run_local.sh or run_slurm.sh)
# Works on data/{train,dev,eval} (written by stage 0) and writes dump/<set>/ and $exp/.
#
# Rerunning a finished stage is cheap: a stamp (recipes/stages.sh) over the stage's inputs
# skips it; an interrupted stage resumes, since the CLIs skip outputs that exist (vc-extract,
# vc-convert) and vc-train --resume continues from the newest checkpoint.

vc_sets=(train dev eval)

# vc_stage_extract: stage 1, WORLD features of every set, in $nj shards then one merge. The
# training set is analysed without aperiodicity (no D4C, about half of the analysis time):
# training reads F0 and the mel-cepstrum only, and its samples are made from dump/dev.
vc_stage_extract() {
  local set stamp key opts
  for set in "${vc_sets[@]}"; do
    stamp=dump/$set/.extract.done key=extract opts=()
    if [ "$set" = train ]; then
      key="extract no-aperiodicity" opts=(--no-aperiodicity)
    fi
    if stamp_ok "$stamp" "$key" "$feats_conf" "data/$set/wav.scp" "dump/$set/feats.scp"; then
      echo "dump/$set is up to date (delete $stamp to redo)"
      continue
    fi
    if [ "$nj" -gt 1 ]; then
      $extract_cmd JOB=1:"$nj" "exp/logs/extract/$set.JOB.log" \
        vc-extract --data "data/$set" --out "dump/$set" --conf "$feats_conf" "${opts[@]}" \
        --num-shards "$nj" --shard JOB --no-progress
      vc-extract --data "data/$set" --out "dump/$set" --conf "$feats_conf" "${opts[@]}" --merge
    else
      $extract_cmd "exp/logs/extract/$set.log" \
        vc-extract --data "data/$set" --out "dump/$set" --conf "$feats_conf" "${opts[@]}" --no-progress
    fi
    stamp_write "$stamp" "$key" "$feats_conf" "data/$set/wav.scp" "dump/$set/feats.scp"
  done
}

# vc_stage_stats: stage 2, per-speaker log-F0 and mel-cepstrum statistics of the training set.
vc_stage_stats() {
  local stamp=dump/train/.stats.done
  local inputs=(dump/train/.extract.done dump/train/stats.npz)  # the extract stamp covers the feature settings
  if stamp_ok "$stamp" stats "${inputs[@]}"; then
    echo "dump/train/stats.npz is up to date"
    return 0
  fi
  vc-stats --data data/train --feats dump/train --out dump/train/stats.npz --no-progress
  stamp_write "$stamp" stats "${inputs[@]}"
}

# vc_stage_train: stage 3, train StarGAN-VC into the bundle $exp (resumes from its checkpoint).
vc_stage_train() {
  local stamp=$exp/.train.done key="max_steps=$max_steps seed=${train_seed:-$seed}"
  local inputs=("$conf" dump/train/stats.npz dump/train/.extract.done dump/dev/.extract.done)
  if stamp_ok "$stamp" "$key" "${inputs[@]}" "$exp/checkpoints/latest"; then
    echo "$exp is trained ($(cat "$exp/checkpoints/latest")); delete $stamp to train again"
    return 0
  fi
  local args=(--config "$conf" --feats dump/train --dev-feats dump/dev --stats dump/train/stats.npz
    --exp "$exp" --seed "${train_seed:-$seed}")
  [ -z "$max_steps" ] || args+=(--max-steps "$max_steps")
  # 1 on a machine busy with other work: several threads there wait on each other (~5x slower).
  [ -z "${train_threads:-}" ] || args+=(-o "trainer.cpu_threads=$train_threads")
  if [ -f "$exp/checkpoints/latest" ]; then
    echo "resuming from $exp/checkpoints/$(cat "$exp/checkpoints/latest")"
    args+=(--resume)
  fi
  $train_cmd "exp/logs/train/$(basename -- "$exp").log" vc-train "${args[@]}"
  stamp_write "$stamp" "$key" "${inputs[@]}" "$exp/checkpoints/latest"
}

# _vc_convert NAME OUTDIR [vc-convert options...]: the eval set to every target, sharded.
_vc_convert() {
  local name=$1 outdir=$2
  shift 2
  local stamp=$outdir/.convert.done key="$*" latest=""
  [ -f "$exp/checkpoints/latest" ] && latest=$exp/checkpoints/$(cat "$exp/checkpoints/latest")
  # The checkpoint itself, not only its name: a model retrained to the same step is another model.
  local inputs=(data/eval/wav.scp "$latest" "$exp/stats.npz" "$outdir/manifest.tsv")
  if stamp_ok "$stamp" "$key" "${inputs[@]}"; then
    echo "$outdir is up to date"
    return 0
  fi
  if [ -f "$stamp" ]; then
    # A finished conversion whose model or inputs changed since: start that folder afresh
    # (vc-convert refuses to mix outputs of two models in one folder).
    echo "inputs of $outdir changed since it was made: converting again"
    rm -rf -- "$outdir"
  fi
  local common=("$@" --model "$exp" --data data/eval --targets all --outdir "$outdir" --no-progress)
  if [ "$nj" -gt 1 ]; then
    $convert_cmd JOB=1:"$nj" "exp/logs/convert/$name.JOB.log" \
      vc-convert "${common[@]}" --nj 1 --num-shards "$nj" --shard JOB
    vc-convert "${common[@]}" --merge   # manifest.tsv of the whole set, converting nothing
  else
    $convert_cmd "exp/logs/convert/$name.log" vc-convert "${common[@]}"
  fi
  stamp_write "$stamp" "$key" "${inputs[@]}"
}

# vc_stage_convert: stage 4, the eval set converted by the model and by the statistical baseline
# (log-Gaussian F0 transform + per-speaker mel-cepstrum mean/variance conversion, no network).
vc_stage_convert() {
  _vc_convert "$(basename -- "$exp")" "$exp/convert/eval" --precision "${convert_precision:-fp32}"
  _vc_convert "$(basename -- "$exp")_baseline" "$exp/convert_baseline/eval" --baseline stats
}

# vc_stage_evaluate: stage 5, MCD / F0 / speaker scores of model, baseline and no conversion
# (vc-evaluate adds the "none" row itself), a table on screen, the HTML sample page in
# $exp/samples (index.html, audio/, img/), beside the per-step validation samples that vc-train
# keeps there (step_N/), and $exp/RESULTS.md (environment and tables, from scores.json; copy it
# to the recipe's RESULTS.md to publish a run).
vc_stage_evaluate() {
  local model=$exp/convert/eval/manifest.tsv baseline=$exp/convert_baseline/eval/manifest.tsv
  local stamp=$exp/.evaluate.done key="speaker_encoder=$speaker_encoder"
  # The conversions' stamps, not only their manifests: new audio can have the same file names.
  local inputs=("$exp/convert/eval/.convert.done" "$exp/convert_baseline/eval/.convert.done" data/eval/wav.scp
    "$exp/scores.json")
  if stamp_ok "$stamp" "$key" "${inputs[@]}"; then
    echo "$exp/scores.json is up to date; the table:"
    [ -f "$exp/scores.txt" ] && cat "$exp/scores.txt"
    [ -f "$exp/RESULTS.md" ] || vc-evaluate --results-md "$exp/RESULTS.md" "$exp/scores.json"
    return 0
  fi
  vc-evaluate --manifest "$model" --label stargan-vc --manifest "$baseline" --label baseline \
    --ref-data data/eval --model "$exp" --speaker-encoder "$speaker_encoder" \
    --out "$exp/scores.json" --page "$exp/samples" --nj "$nj" --no-progress | tee "$exp/scores.txt.tmp"
  mv -f -- "$exp/scores.txt.tmp" "$exp/scores.txt"
  vc-evaluate --results-md "$exp/RESULTS.md" "$exp/scores.json"
  stamp_write "$stamp" "$key" "${inputs[@]}"
  echo "scores: $exp/scores.json, $exp/RESULTS.md; listening page: $exp/samples/index.html"
}
