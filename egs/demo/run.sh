#!/usr/bin/env bash
# Demo recipe: the whole StarGAN-VC chain on a synthetic parallel corpus made on the spot with
# flite (4 voices x 220 sentences written for this project), small enough to finish on 2 CPU
# cores in about 15 minutes. Stages (select with --stage/--stop_stage):
#   0 corpus synthesis + data dirs (data/{train,dev,eval}, split by sentence)
#   1 feature extraction   2 statistics   3 training   4 conversion of the eval set (model and
#   statistical baseline)   5 objective evaluation (model vs baseline vs no conversion) + sample page
set -euo pipefail

stage=0                     # first stage to run
stop_stage=5                # last stage to run
nj=2                        # parallel jobs: synthesis, extraction and conversion shards
exp=exp/stargan_vc          # experiment folder: model bundle, conversions, scores, sample page
conf=conf/train.yaml        # training config (conf/train_full.yaml: the longer run)
feats_conf=conf/feats.yaml  # feature analysis config
voices=slt,rms,awb,kal16    # flite voices, one speaker each
num_sentences=all           # sentences per voice (all: the 220 of local/sentences.txt)
dev_sentences=10            # sentences held out for dev, read by every voice
eval_sentences=10           # sentences held out for evaluation, read by every voice
seed=1                      # seed of the split and of training
train_seed=                 # training seed (empty: seed): another network on the same split, in a new --exp
max_steps=                  # training steps, overriding the config (empty: the config's)
train_threads=              # CPU threads for training (empty: the config's, all cores); 1 on a busy machine
speaker_encoder=resemblyzer # vc-evaluate speaker encoder: resemblyzer, mfcc or none
convert_precision=fp32      # stage 4 vc-convert --precision: fp32 scores the exact network on any CPU; auto: bf16 with AMX/AVX512-BF16

help_message="Usage: $0 [options]
Demo: synthesize a small parallel corpus with flite, train StarGAN-VC on it, convert and score.
Example: bash run.sh --stage 3 --stop_stage 5 --conf conf/train_full.yaml --exp exp/full"
. "$(dirname "$0")/../../recipes/parse_options.sh"
if [ $# -ne 0 ]; then echo "$0: unexpected arguments: $*; see --help" >&2; exit 1; fi

cd "$(dirname "$0")"
. ../../recipes/path.sh
. ../../recipes/cmd.sh
. ../../recipes/stages.sh
. ../../recipes/vc_stages.sh

# Stage 0: corpus (resumable: existing files are kept) and data dirs, remade when an option changes.
stage_0() {
  local args=(--out corpus --voices "$voices" --nj "$nj")
  [ "$num_sentences" = all ] || args+=(--num-sentences "$num_sentences")
  python local/make_corpus.py "${args[@]}"
  local key="voices=$voices num_sentences=$num_sentences dev=$dev_sentences eval=$eval_sentences seed=$seed"
  local outputs=(data/train/wav.scp data/dev/wav.scp data/eval/wav.scp)
  if stamp_ok data/.prepare.done "$key" "${outputs[@]}"; then
    echo "data/{train,dev,eval} are up to date"
    return 0
  fi
  vc-prepare-data --layout speaker-dirs --root corpus --out data/all --speakers "$voices"
  vc-split-data --data data/all --out-dir data --by sentence \
    --dev "$dev_sentences" --eval "$eval_sentences" --seed "$seed"
  stamp_write data/.prepare.done "$key" "${outputs[@]}"
}

run_stage 0 "corpus synthesis and data preparation" stage_0
run_stage 1 "feature extraction (train, dev, eval)" vc_stage_extract
run_stage 2 "speaker statistics" vc_stage_stats
run_stage 3 "training" vc_stage_train
run_stage 4 "conversion of the eval set" vc_stage_convert
run_stage 5 "evaluation and sample page" vc_stage_evaluate
