"""One module per CLI command, found by listing this package.

Each module has `register(subparsers)` that adds its parser and sets `handler`;
heavy imports happen inside the handler, so `infobench --help` stays fast.
"""

import pkgutil


def command_modules() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))
