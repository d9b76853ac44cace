#!/usr/bin/env bash
# Benchmark every finished NLI zoo checkpoint: clean and adversarial-set accuracy, then the
# attacks, into results/. Every command resumes where a previous run stopped, and a finished
# record is not recomputed, so rerunning this after a crash or after adding a model is cheap.
#   METHODS="standard infobert freelb" RECIPES="textfooler pwws" ATTACK_N=200 scripts/benchmark_zoo.sh
set -euo pipefail
CKPTS=${CKPTS:-checkpoints}
ATTACK_N=${ATTACK_N:-200}
for method in ${METHODS:-standard infobert freelb}; do
  ckpt="$CKPTS/$method-minilm-l6-snli-s42"
  if [ ! -f "$ckpt/card.json" ]; then echo "skip $ckpt: not trained (scripts/train_zoo.sh)"; continue; fi
  infobench evaluate "$ckpt" --dataset snli-test --dataset anli --dataset tf1k-clean
  for recipe in ${RECIPES:-textfooler pwws}; do
    infobench attack "$ckpt" --recipe "$recipe" --dataset snli-test -n "$ATTACK_N" --seed 0
  done
done
infobench leaderboard
