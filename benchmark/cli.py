"""`infobench` command line. Importing this is fast: each handler imports what it needs."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from benchmark import __version__
from benchmark.commands import command_modules
from benchmark.core.errors import UserError

log = logging.getLogger("infobench")


class _Parser(argparse.ArgumentParser):
    """Bad flags are user errors: a clear message and exit code 2 (argparse's own convention)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"infobench: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="infobench", description="Robustness benchmark for NLP models.")
    parser.add_argument("--version", action="version", version=f"infobench {__version__}")
    parser.add_argument("--quiet", action="store_true", help="no progress bars, warnings only")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for name in command_modules():
        importlib.import_module(f"benchmark.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.handler(args) or 0
    except UserError as err:
        print(f"infobench: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("infobench: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
