#!/usr/bin/env bash
# Amdo Tibetan recipe: StarGAN-VC on XBMU-AMDO31 (OpenSLR 133) or on any speaker-folder corpus,
# keeping the --num_speakers speakers with the most utterances. Stages (--stage/--stop_stage):
#   0 data dirs (data/{train,dev,eval}, split by utterance)
#   1 feature extraction   2 statistics   3 training   4 conversion of the eval set (model and
#   statistical baseline)   5 objective evaluation (model vs baseline vs no conversion) + sample page
#
# The corpus is not parallel (each speaker reads different sentences), so the split is by
# utterance and a converted utterance has no reference of the same sentence by its target:
# MCD and the F0 errors, which need such parallel references, are skipped by vc-evaluate;
# speaker similarity (to the target speaker's recordings) still applies.
set -euo pipefail

stage=0                     # first stage to run
stop_stage=5                # last stage to run
nj=4                        # parallel jobs: extraction and conversion shards
exp=exp/stargan_vc          # experiment folder: model bundle, conversions, scores, sample page
conf=conf/train.yaml        # training config
feats_conf=conf/feats.yaml  # feature analysis config
corpus_root=                # the corpus folder (required)
layout=xbmu-amdo31          # corpus layout: xbmu-amdo31 or speaker-dirs (<root>/<speaker>/*.wav)
num_speakers=8              # keep the N speakers with the most utterances
subsets=train,dev,test      # xbmu-amdo31 subsets to read
dev_utts=5                  # utterances per speaker held out for dev
eval_utts=10                # utterances per speaker held out for evaluation
seed=1                      # seed of the split and of training
train_seed=                 # training seed (empty: seed): another network on the same split, in a new --exp
max_steps=                  # training steps, overriding the config (empty: the config's)
speaker_encoder=resemblyzer # vc-evaluate speaker encoder: resemblyzer, mfcc or none
convert_precision=fp32      # stage 4 vc-convert --precision: fp32 scores the exact network on any CPU; auto: bf16 with AMX/AVX512-BF16

help_message="Usage: $0 --corpus_root DIR [options]
StarGAN-VC on Amdo Tibetan speech (XBMU-AMDO31) or any corpus in speaker folders.
Paths in options are relative to the recipe folder, except --corpus_root.
Example: bash run.sh --corpus_root /data/XBMU-AMDO31 --num_speakers 8 --nj 8"
. "$(dirname "$0")/../../recipes/parse_options.sh"
if [ $# -ne 0 ]; then echo "$0: unexpected arguments: $*; see --help" >&2; exit 1; fi
case $layout in
  xbmu-amdo31|speaker-dirs) ;;
  *) echo "$0: --layout must be xbmu-amdo31 or speaker-dirs, got '$layout'" >&2; exit 1 ;;
esac
if [ -z "$corpus_root" ]; then echo "$0: --corpus_root is required; see --help" >&2; exit 1; fi
# resolved before cd: relative to where run.sh was started
corpus_root=$(cd -- "$corpus_root" 2> /dev/null && pwd) || { echo "$0: --corpus_root: no such folder" >&2; exit 1; }

cd "$(dirname "$0")"
. ../../recipes/path.sh
: "${train_slurm:=--gpu 1 --num-threads 4 --mem 16G --time 24:00:00}"  # a longer training than the default job's
. ../../recipes/cmd.sh
. ../../recipes/stages.sh
. ../../recipes/vc_stages.sh

# Stage 0: data dirs of the N largest speakers, split by utterance; remade when an option changes.
stage_0() {
  local key="root=$corpus_root layout=$layout n=$num_speakers subsets=$subsets dev=$dev_utts eval=$eval_utts seed=$seed"
  local outputs=(data/train/wav.scp data/dev/wav.scp data/eval/wav.scp)
  if stamp_ok data/.prepare.done "$key" "${outputs[@]}"; then
    echo "data/{train,dev,eval} are up to date"
    return 0
  fi
  local args=(--layout "$layout" --root "$corpus_root" --out data/all --num-speakers "$num_speakers")
  [ "$layout" = xbmu-amdo31 ] && args+=(--subsets "$subsets")
  vc-prepare-data "${args[@]}"
  vc-split-data --data data/all --out-dir data --by utterance \
    --dev "$dev_utts" --eval "$eval_utts" --seed "$seed"
  stamp_write data/.prepare.done "$key" "${outputs[@]}"
}

run_stage 0 "data preparation" stage_0
run_stage 1 "feature extraction (train, dev, eval)" vc_stage_extract
run_stage 2 "speaker statistics" vc_stage_stats
run_stage 3 "training" vc_stage_train
run_stage 4 "conversion of the eval set" vc_stage_convert
run_stage 5 "evaluation and sample page" vc_stage_evaluate
