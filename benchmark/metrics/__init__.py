"""Scoring rules, pure functions of predictions, gold answers and per-example logs: SQuAD EM/F1 (squad.py), attack outcomes (attack.py), validity flags of adversarial examples (validity.py)."""
