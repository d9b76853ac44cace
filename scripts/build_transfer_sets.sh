#!/usr/bin/env bash
# Build the transfer sets tf-transfer-{snli,mnli-m,mnli-mm} (group tf-transfer): TextFooler against the
# source model on the three clean TextFooler 1k samples; the successful examples of each attack record
# are the set (benchmark/data/registry.py declares which record: standard-minilm-l6-snli-s7, textfooler, n=1000,
# seed 0). Every attack resumes where it stopped; a finished record is not recomputed.
#   scripts/build_transfer_sets.sh [CHECKPOINT] [RESULTS]
#   N=5 scripts/build_transfer_sets.sh CKPT /tmp/r     # a quick trial (named sets need N=1000)
#   ATTACK_FLAGS="--device cuda --batch-size 256" scripts/build_transfer_sets.sh
# Then: infobench transfer --checkpoint A --checkpoint B ... --set tf-transfer --results RESULTS
set -euo pipefail
CKPT=${1:-checkpoints/standard-minilm-l6-snli-s7}
RESULTS=${2:-results}
N=${N:-1000}
INFOBENCH=${INFOBENCH:-infobench}
SOURCE=standard-minilm-l6-snli-s7
if [ ! -f "$CKPT/card.json" ]; then echo "no checkpoint at $CKPT (card.json missing)" >&2; exit 2; fi
model_id=$(python -c 'import json, sys; print(json.load(open(sys.argv[1]))["model_id"])' "$CKPT/card.json")
if [ "$model_id" != "$SOURCE" ]; then
  echo "note: $CKPT is $model_id, not $SOURCE: its sets are usable as adv:<record id>, not as tf-transfer-*" >&2
fi
# The clean samples, named through the registry (old and new names both resolve).
for dataset in snli-tf1k-clean mnli-m-tf1k-clean mnli-mm-tf1k-clean; do
  # shellcheck disable=SC2086
  $INFOBENCH attack "$CKPT" --recipe textfooler --dataset "$dataset" -n "$N" --seed 0 --results "$RESULTS" \
    ${ATTACK_FLAGS:-}
done
if [ "$model_id" = "$SOURCE" ] && [ "$N" = 1000 ]; then
  mkdir -p "$RESULTS/transfer_sets"
  for short in snli mnli-m mnli-mm; do
    $INFOBENCH export "tf-transfer-$short" -o "$RESULTS/transfer_sets/tf-transfer-$short.jsonl" --results "$RESULTS"
  done
fi
