"""SAFER's smoothed classifier as the model under attack: a TextAttack ModelWrapper around the fast one.

`smoothed_model_wrapper(base, N, seed)` takes the attacks' `InfobenchModelWrapper`
(benchmark/attack/model_wrapper.py, unchanged) and returns a wrapper whose every query is the
majority vote of the base over N seeded random synonym substitutions of the query
(models/smoothed_classifier.py): vote shares come out, seeded by the query's exact text, so an
attack on the ensemble is reproducible. Gradient recipes are refused (the vote has no gradient).
"""

from __future__ import annotations

import functools

from benchmark.core.errors import UserError
from models.smoothed_classifier import SmoothedScorer


@functools.cache
def smoothed_wrapper_class():
    """`SmoothedModelWrapper`: SmoothedScorer as a textattack ModelWrapper (built on first use)."""
    from benchmark.resources import import_textattack

    textattack = import_textattack()

    class SmoothedModelWrapper(SmoothedScorer, textattack.models.wrappers.ModelWrapper):
        """The smoothed classifier as the model under attack."""

        def get_grad(self, text_input):
            raise UserError("the smoothed classifier has no gradient (it votes over random substitutions): "
                            "attack it with a black-box recipe such as textfooler or pwws")

    return SmoothedModelWrapper


def smoothed_model_wrapper(base, samples: int, seed: int = 0, substitutions=None):
    """Wrap an attack wrapper (`attack_model_wrapper(...)`) so attacks query the smoothed classifier."""
    return smoothed_wrapper_class()(base, samples, seed, substitutions)
