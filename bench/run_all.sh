#!/usr/bin/env bash
# `make bench`: every benchmark in bench/, each printing ratios against a baseline measured in
# the same run. Results are printed and also saved under bench/results/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
for b in features train_speed img_train_speed convert_speed; do
  echo "=== bench/$b.py"
  python "bench/$b.py" "$@" 2>&1 | tee "bench/results/$b.txt"
done
echo "=== bench/slant_reader.py"  # takes no speed options
python bench/slant_reader.py 2>&1 | tee bench/results/slant_reader.txt
echo "=== bench/adam_step.py"  # needs a config
python bench/adam_step.py --config egs/fonts_v2/conf/stargan_v2.yaml 2>&1 | tee bench/results/adam_step.txt
