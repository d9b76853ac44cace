#!/usr/bin/env bash
# Issue 18's experiment, end to end and resumable (protocol: docs/zoo.md "Does InfoBERT help at
# this scale?"). Rerun the same command after any interruption until it prints the verdict:
# every training resumes from its saved state, every finished record is kept.
#   scripts/zoo_verdict.sh                      # all of it (hours of CPU)
#   STAGE=train SEEDS="1" scripts/zoo_verdict.sh  # one stage, some seeds
# The measure stage is one `infobench grid` over the finished checkpoints (a spec written here):
# transfer sets, clean sets, adaptive attacks (default then strict presets) on ATTACK_N pairs.
set -euo pipefail
OUT=${OUT:-checkpoints}
RESULTS=${RESULTS:-results}
SEEDS=${SEEDS:-1 2 3}
METHODS=${METHODS:-standard freelb infobert infobert-std}
ATTACK_N=${ATTACK_N:-1000}
STRICT_RECIPES=${STRICT_RECIPES:-textfooler-strict pwws-strict}
WORKERS=${WORKERS:-1}  # grid workers for the measure stage; 1 beside a training run on 2 cores
STAGE=${STAGE:-all}
INFOBENCH=${INFOBENCH:-infobench}
train() {  # the zoo preset of scripts/train_zoo.sh; identical init and data order per seed
  local method=$1 seed=$2 out="$OUT/$1-minilm-l6-snli-s$2"
  [ -f "$out/card.json" ] && return 0
  $INFOBENCH train --method "$method" --backbone minilm-l6 --task snli --epochs 1 --batch-size 32 --lr 5e-5 \
    --max-dev 2000 --seed "$seed" --output "$out" --resume
}
if [[ $STAGE == all || $STAGE == source ]]; then  # the transfer sets' source, outside the comparison
  train standard 7
  scripts/build_transfer_sets.sh "$OUT/standard-minilm-l6-snli-s7" "$RESULTS"
fi
if [[ $STAGE == all || $STAGE == train ]]; then
  for seed in $SEEDS; do for method in $METHODS; do train "$method" "$seed"; done; done
fi
if [[ $STAGE == all || $STAGE == measure ]]; then  # one grid over every finished checkpoint
  checkpoints=()
  for seed in $SEEDS; do for method in $METHODS; do
    ckpt="$OUT/$method-minilm-l6-snli-s$seed"
    [ -f "$ckpt/card.json" ] && checkpoints+=("\"$ckpt\"")
  done; done
  if [ ${#checkpoints[@]} -gt 0 ]; then
    spec=$(mktemp --suffix .toml)
    trap 'rm -f "$spec"' EXIT
    quoted() { local IFS=,; echo "$*"; }
    cat > "$spec" <<SPEC
checkpoints = [$(quoted "${checkpoints[@]}")]
results = "$RESULTS"
[execution]
workers = $WORKERS
cpus_per_worker = 1
shard_size = 100
[[evaluate]]  # the primary endpoint (tf-transfer) and the secondary clean sets
dataset = ["tf-transfer", "snli-test", "anli", "tf1k-clean"]
[[attack]]  # adaptive attacks, the default presets first
recipe = ["textfooler", "pwws"]
dataset = "snli-test"
n = $ATTACK_N
seed = 0
[[attack]]  # the strict presets (docs/validity.md)
recipe = [$(quoted $(printf '"%s" ' $STRICT_RECIPES))]
dataset = "snli-test"
n = $ATTACK_N
seed = 0
SPEC
    $INFOBENCH grid "$spec"
  fi
  python scripts/plot_training.py "$OUT"/*-minilm-l6-snli-s[0-9]* --out "$RESULTS/plots/training-curves.png"
  $INFOBENCH leaderboard --results "$RESULTS"
  python scripts/zoo_verdict.py --results "$RESULTS" --seeds $SEEDS
fi
