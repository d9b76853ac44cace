"""External resources: where each is looked for and what to say when it is missing (locate.py),
the offline counter-fitted embedding substitute (counterfit.py) and its calibration (calibration.py).

The public names of locate.py are reachable here: `from benchmark.resources import import_textattack`.
"""

from benchmark.resources import locate

_MODULES = (locate,)


def __getattr__(name: str):
    """`benchmark.resources.NAME` is the public NAME of locate.py (names added there included)."""
    for module in _MODULES:
        if not name.startswith("_") and hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module 'benchmark.resources' has no attribute {name!r}")
