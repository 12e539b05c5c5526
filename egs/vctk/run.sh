#!/usr/bin/env bash
# VCTK recipe: StarGAN-VC on a subset of CSTR VCTK 0.92 (default 4 female + 4 male speakers,
# conf/speakers.txt). Stages (select with --stage/--stop_stage):
#  -1 download VCTK 0.92 (about 11 GB; skipped when --vctk_root points at an unpacked copy)
#   0 data dirs (data/{train,dev,eval}, split by sentence: dev/eval take the sentences read by
#     every speaker, so converted utterances have parallel references for MCD)
#   1 feature extraction   2 statistics   3 training   4 conversion of the eval set (model and
#   statistical baseline)   5 objective evaluation (model vs baseline vs no conversion) + sample page
set -euo pipefail

stage=-1                    # first stage to run (-1: download)
stop_stage=5                # last stage to run
nj=4                        # parallel jobs: extraction and conversion shards
exp=exp/stargan_vc          # experiment folder: model bundle, conversions, scores, sample page
conf=conf/train.yaml        # training config
feats_conf=conf/feats.yaml  # feature analysis config (conf/feats_24k.yaml: 24 kHz)
vctk_root=                  # unpacked VCTK 0.92 (or 0.80) folder; empty: download into downloads/
speakers=conf/speakers.txt  # file with the speaker ids to use, one per line
mic=mic1                    # VCTK 0.92 microphone: mic1 or mic2
dev_sentences=5             # sentences held out for dev
eval_sentences=15           # sentences held out for evaluation (VCTK has ~24 read by everyone)
seed=1                      # seed of the split and of training
train_seed=                 # training seed (empty: seed): another network on the same split, in a new --exp
max_steps=                  # training steps, overriding the config (empty: the config's)
speaker_encoder=resemblyzer # vc-evaluate speaker encoder: resemblyzer, mfcc or none
convert_precision=fp32      # stage 4 vc-convert --precision: fp32 scores the exact network on any CPU; auto: bf16 with AMX/AVX512-BF16
download_url=https://datashare.ed.ac.uk/bitstream/handle/10283/3443/VCTK-Corpus-0.92.zip # VCTK 0.92 archive (University of Edinburgh DataShare, handle 10283/3443)

help_message="Usage: $0 [options]
StarGAN-VC on VCTK. Paths in options are relative to the recipe folder, except --vctk_root.
Example: bash run.sh --vctk_root /data/VCTK-Corpus-0.92 --nj 8"
. "$(dirname "$0")/../../recipes/parse_options.sh"
if [ $# -ne 0 ]; then echo "$0: unexpected arguments: $*; see --help" >&2; exit 1; fi
if [ -n "$vctk_root" ]; then   # resolved before cd: relative to where run.sh was started
  vctk_root=$(cd -- "$vctk_root" 2> /dev/null && pwd) || { echo "$0: --vctk_root: no such folder" >&2; exit 1; }
fi

cd "$(dirname "$0")"
. ../../recipes/path.sh
: "${train_slurm:=--gpu 1 --num-threads 4 --mem 16G --time 24:00:00}"  # a longer training than the default job's
. ../../recipes/cmd.sh
. ../../recipes/stages.sh
. ../../recipes/vc_stages.sh

archive=downloads/VCTK-Corpus-0.92.zip
# SHA-256 of VCTK-Corpus-0.92.zip (the value torchaudio checks for the same archive).
archive_sha256=f96258be9fdc2cbff6559541aae7ea4f59df3fcaf5cf963aae5ca647357e359c
corpus_dir=${vctk_root:-downloads/VCTK-Corpus-0.92}

# Stage -1: download (resumable: curl -C -), check, unpack into downloads/VCTK-Corpus-0.92.
stage_download() {
  if [ -n "$vctk_root" ]; then
    echo "--vctk_root $vctk_root given: nothing to download"
    return 0
  fi
  if [ -f "$corpus_dir/.unpacked" ]; then
    echo "$corpus_dir is ready"
    return 0
  fi
  mkdir -p downloads
  if [ ! -f "$archive" ]; then
    echo "downloading $download_url (about 11 GB) to $archive"
    if command -v curl > /dev/null; then
      curl -fL --retry 5 --retry-delay 10 -C - -o "$archive.part" "$download_url"
    else
      wget -c -O "$archive.part" "$download_url"
    fi
    if ! echo "$archive_sha256  $archive.part" | sha256sum --check --status; then
      mv -f "$archive.part" "$archive.bad"
      echo "checksum mismatch: the download is kept as $archive.bad; remove it and rerun stage -1" >&2
      return 1
    fi
    mv -f "$archive.part" "$archive"
  fi
  echo "unpacking $archive"
  rm -rf "$corpus_dir.tmp"
  unzip -q "$archive" -d "$corpus_dir.tmp"
  mv "$corpus_dir.tmp" "$corpus_dir"
  touch "$corpus_dir/.unpacked"
  echo "VCTK is in $corpus_dir; $archive can be deleted"
}

# Stage 0: data dirs for the chosen speakers, split by sentence; remade when an option changes.
stage_0() {
  if [ ! -d "$corpus_dir" ]; then
    echo "no VCTK corpus at $corpus_dir: run stage -1 (download) or give --vctk_root" >&2
    return 1
  fi
  local spk_list
  spk_list=$(sed -e 's/#.*//' "$speakers" | tr -s ' \t' '\n' | sed '/^$/d' | paste -sd, -)
  if [ -z "$spk_list" ]; then
    echo "$speakers lists no speakers" >&2
    return 1
  fi
  local key="root=$corpus_dir speakers=$spk_list mic=$mic dev=$dev_sentences eval=$eval_sentences seed=$seed"
  local outputs=(data/train/wav.scp data/dev/wav.scp data/eval/wav.scp)
  if stamp_ok data/.prepare.done "$key" "${outputs[@]}"; then
    echo "data/{train,dev,eval} are up to date"
    return 0
  fi
  vc-prepare-data --layout vctk --root "$corpus_dir" --out data/all --speakers "$spk_list" --mic "$mic"
  vc-split-data --data data/all --out-dir data --by sentence \
    --dev "$dev_sentences" --eval "$eval_sentences" --seed "$seed"
  stamp_write data/.prepare.done "$key" "${outputs[@]}"
}

run_stage -1 "download VCTK 0.92" stage_download
run_stage 0 "data preparation" stage_0
run_stage 1 "feature extraction (train, dev, eval)" vc_stage_extract
run_stage 2 "speaker statistics" vc_stage_stats
run_stage 3 "training" vc_stage_train
run_stage 4 "conversion of the eval set" vc_stage_convert
run_stage 5 "evaluation and sample page" vc_stage_evaluate
