"""Scoring rules, pure functions of predictions and gold answers: SQuAD EM/F1 (squad.py), attack outcomes (attack.py)."""
