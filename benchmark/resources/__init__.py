"""External resources: where each is looked for and what to say when it is missing (locate.py),
and the offline counter-fitted embedding substitute (counterfit.py).

The locator's public names are reached here too: `from benchmark.resources import import_textattack`.
"""


def __getattr__(name: str):
    # PEP 562 facade: every public name of locate.py, including ones added later, without a
    # second list kept by hand; the module is imported on first use only.
    import importlib

    try:
        return getattr(importlib.import_module("benchmark.resources.locate"), name)
    except AttributeError:
        raise AttributeError(f"module 'benchmark.resources' has no attribute {name!r}") from None
