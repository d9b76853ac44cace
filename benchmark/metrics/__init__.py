"""Metrics computed from per-example logs (no model, no attack)."""
