#!/usr/bin/env bash
# The QA zoo on the offline SQuAD training split with MiniLM-L6: standard and InfoBERT, then the
# held-out SQuAD dev part and Adversarial SQuAD (AddSent, AddOneSent) on 500 original questions each.
# CPU settings (docs/INFOBERT.md: keep the ratios, shrink batch and length): 1,500 questions, 2 epochs,
# batch 16, max length 256 (doc stride 128), lr 1e-4 (a 22M-parameter encoder wants a larger step).
set -euo pipefail
OUT=${OUT:-checkpoints}
for method in ${METHODS:-standard infobert}; do
  ckpt="$OUT/$method-minilm-l6-squad-s42"
  [ -f "$ckpt/card.json" ] || infobench train --method "$method" --backbone minilm-l6 --task squad \
    --max-train "${MAX_TRAIN:-1500}" --epochs "${EPOCHS:-2}" --batch-size 16 --lr "${LR:-1e-4}" --max-length 256 \
    --max-dev 500 --seed 42 --output "$ckpt" --resume
  infobench evaluate "$ckpt" --dataset squad-dev-heldout --dataset adv-squad-addsent --dataset adv-squad-addonesent -n 500
done
