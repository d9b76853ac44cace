#!/usr/bin/env bash
# The main job on the embedded default, at small scale: train MiniLM-L6 with `standard` and
# `infobert` on a slice of SNLI, evaluate both on SNLI test and ANLI, attack both with
# TextFooler and PWWS, then regenerate and print the leaderboard. Everything lands in
# runs/demo (results/ keeps the zoo's real records). Offline when INFOBENCH_DATA is set.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
DEMO=${DEMO_DIR:-runs/demo}
TRAIN_N=${DEMO_TRAIN_N:-2000}
ATTACK_N=${DEMO_ATTACK_N:-30}
mkdir -p "$DEMO"
start=$(date +%s)
step() { printf '\n== %s (%ss elapsed)\n' "$1" "$(( $(date +%s) - start ))"; }

step "resources: the offline counter-fitted embedding TextFooler needs (built once)"
infobench resources build-embedding --if-missing

for method in standard infobert; do
  ckpt="$DEMO/checkpoints/$method-minilm-l6-snli-s42"
  step "train $method on $TRAIN_N SNLI pairs"
  [ -f "$ckpt/card.json" ] || infobench train --method "$method" --backbone minilm-l6 --task snli \
      --max-train "$TRAIN_N" --epochs 1 --batch-size 32 --lr 5e-5 --max-dev 500 --output "$ckpt" --resume
  step "evaluate $method on SNLI test and ANLI"
  infobench evaluate "$ckpt" --dataset snli-test -n 1000 --dataset anli -n 200 --results "$DEMO/results"  # ANLI: 200 per round
  for recipe in textfooler pwws; do
    step "attack $method with $recipe on $ATTACK_N SNLI test examples"
    infobench attack "$ckpt" --recipe "$recipe" --dataset snli-test -n "$ATTACK_N" --results "$DEMO/results"
  done
done

step "leaderboard"
infobench leaderboard --results "$DEMO/results" --readme none
cat "$DEMO/results/leaderboard.md"
step "demo finished"
