#!/usr/bin/env bash
# The NLI zoo on the offline 18k SNLI subset with MiniLM-L6: standard, InfoBERT, FreeLB.
# Small-backbone CPU settings (docs/INFOBERT.md: keep the ratios, shrink batch and length):
# one epoch, batch 32, lr 5e-5 (a 22M-parameter encoder wants a larger step than roberta-large's 2e-5).
set -euo pipefail
EPOCHS=${EPOCHS:-1}
OUT=${OUT:-checkpoints}
for method in ${METHODS:-standard infobert freelb}; do
  [ -f "$OUT/$method-minilm-l6-snli-s42/card.json" ] && continue
  infobench train --method "$method" --backbone minilm-l6 --task snli --epochs "$EPOCHS" \
    --batch-size 32 --lr 5e-5 --max-dev 2000 --seed 42 --output "$OUT/$method-minilm-l6-snli-s42" --resume
done
