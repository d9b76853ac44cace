"""External resources: where each is looked for and what to say when it is missing (locate.py),
and the offline counter-fitted embedding substitute (counterfit.py).

The locator's public names are reached here too: `from benchmark.resources import import_textattack`.
"""

from benchmark.core.facade import forward_names

__getattr__ = forward_names("benchmark.resources", "locate")
