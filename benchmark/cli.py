"""`infobench` command line. Importing this is fast: each handler imports what it needs."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from benchmark import __version__
from benchmark.commands import command_modules
from benchmark.core.atomic import USER_ERRNOS
from benchmark.core.errors import UserError

log = logging.getLogger("infobench")


class _Parser(argparse.ArgumentParser):
    """Bad flags are user errors: one line naming the flag and exit code 2 (argparse's own code)."""

    def error(self, message):
        self.exit(2, f"infobench: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="infobench", description="Robustness benchmark for NLP models.")
    parser.add_argument("--version", action="version", version=f"infobench {__version__}")
    parser.add_argument("--quiet", action="store_true", help="no progress bars, warnings only")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    for name in command_modules():
        importlib.import_module(f"benchmark.commands.{name}").register(subparsers)
    for command in subparsers.choices.values():  # `infobench attack ... --debug` works too
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    return parser


DEBUG_HELP = "show the full traceback of an unexpected error here instead of saving it to a log file"


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
    except Exception as err:  # the last resort: a short message, the traceback in a file
        if args.debug:
            raise
        if isinstance(err, OSError) and err.errno in USER_ERRNOS:  # disk full, permissions: the user's to fix
            print(f"infobench: error: {USER_ERRNOS[err.errno]}: {err.filename or err}", file=sys.stderr)
            return 2
        return _report_crash(err, argv)


def _report_crash(err: Exception, argv: list[str] | None) -> int:
    """A bug (or an error nobody foresaw): one line for the user, the full traceback in a log file."""
    import traceback

    from benchmark.core.crash_log import write_crash_log

    where = write_crash_log(traceback.format_exc(), sys.argv[1:] if argv is None else argv)
    summary = " ".join(str(err).split())[:200] or "(no message)"
    print(f"infobench: internal error: {type(err).__name__}: {summary}\n"
          f"infobench: the full traceback is in {where}; rerun with --debug to see it here, and please report it",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
