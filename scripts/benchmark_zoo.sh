#!/usr/bin/env bash
# Benchmark every finished NLI zoo checkpoint: clean and adversarial-set accuracy, then the
# attacks, into results/. Every command resumes where a previous run stopped, and a finished
# record is not recomputed, so rerunning this after a crash or after adding a model is cheap.
# Sample sizes resolve about 3 points between rows (docs/sample-sizes.md): whole clean sets, 1,000
# attacked examples, whole transfer sets (built once by scripts/build_transfer_sets.sh).
#   METHODS="standard infobert freelb" RECIPES="textfooler pwws" ATTACK_N=1000 scripts/benchmark_zoo.sh
set -euo pipefail
CKPTS=${CKPTS:-checkpoints}
ATTACK_N=${ATTACK_N:-1000}
targets=()
for method in ${METHODS:-standard infobert freelb}; do
  ckpt="$CKPTS/$method-minilm-l6-snli-s42"
  if [ ! -f "$ckpt/card.json" ]; then echo "skip $ckpt: not trained (scripts/train_zoo.sh)"; continue; fi
  targets+=(--checkpoint "$ckpt")
  infobench evaluate "$ckpt" --dataset snli-test --dataset anli --dataset tf1k-clean
  for recipe in ${RECIPES:-textfooler pwws}; do
    infobench attack "$ckpt" --recipe "$recipe" --dataset snli-test -n "$ATTACK_N" --seed 0
  done
done
source_ckpt="$CKPTS/standard-minilm-l6-snli-s7"  # the transfer sets' source: its column is the white-box diagonal
if [ -f "$source_ckpt/card.json" ]; then targets+=(--checkpoint "$source_ckpt"); fi
if [ ${#targets[@]} -gt 0 ]; then
  infobench transfer "${targets[@]}" --set tf-transfer \
    || echo "no transfer columns: build the sets first (scripts/build_transfer_sets.sh)"
fi
infobench leaderboard
