#!/usr/bin/env bash
# The defences of issue 19 at the zoo's scale (MiniLM-L6, the offline 18k SNLI subset, the same
# settings as scripts/train_zoo.sh: one epoch, batch 32, lr 5e-5), then everything the other zoo
# models are evaluated on. Every command resumes (--resume / logged examples), a finished
# checkpoint or record is skipped, so rerunning after a crash continues where it stopped.
#   SEEDS="42" METHODS="pgd a2t safer" SMOOTHING=64 ATTACK_N=200 scripts/train_defences.sh
#   STAGE=train|benchmark|all (default all)
set -euo pipefail
EPOCHS=${EPOCHS:-1}
OUT=${OUT:-checkpoints}
SEEDS=${SEEDS:-42}
ATTACK_N=${ATTACK_N:-200}
SMOOTHING=${SMOOTHING:-64}   # SAFER votes per input (bench: scripts/bench_smoothing.py)
STAGE=${STAGE:-all}
IB="python -m benchmark.cli"

train() {
  for seed in $SEEDS; do
    for method in ${METHODS:-pgd a2t safer}; do
      ckpt="$OUT/$method-minilm-l6-snli-s$seed"
      [ -f "$ckpt/card.json" ] && continue
      $IB train --method "$method" --backbone minilm-l6 --task snli --epochs "$EPOCHS" \
        --batch-size 32 --lr 5e-5 --max-dev 2000 --seed "$seed" --output "$ckpt" --resume
    done
  done
}

benchmark() {
  for seed in $SEEDS; do
    for method in ${METHODS:-pgd a2t safer}; do
      ckpt="$OUT/$method-minilm-l6-snli-s$seed"
      if [ ! -f "$ckpt/card.json" ]; then echo "skip $ckpt: not trained"; continue; fi
      # Clean sets, ANLI and the transfer (adversarial) sets, as scripts/benchmark_zoo.sh does.
      $IB evaluate "$ckpt" --dataset snli-test --dataset anli --dataset textfooler
      for recipe in ${RECIPES:-textfooler pwws}; do
        $IB attack "$ckpt" --recipe "$recipe" --dataset snli-test -n "$ATTACK_N" --seed 0
      done
      if [ "$method" = safer ]; then
        # The smoothed classifier: empirical and certified accuracy, and the attacks against the ensemble.
        $IB evaluate "$ckpt" --dataset snli-test --smoothing "$SMOOTHING"
        $IB evaluate "$ckpt" --dataset anli --dataset textfooler --smoothing "$SMOOTHING"
        for recipe in ${RECIPES:-textfooler pwws}; do
          $IB attack "$ckpt" --recipe "$recipe" --dataset snli-test -n "$ATTACK_N" --seed 0 --smoothing "$SMOOTHING"
        done
      fi
    done
  done
  $IB leaderboard
}

case "$STAGE" in
  train) train ;;
  benchmark) benchmark ;;
  all) train; benchmark ;;
  *) echo "STAGE must be train, benchmark or all" >&2; exit 2 ;;
esac
