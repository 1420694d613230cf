"""The `rackfocus` command: argument parsing and the error contract.

Each front end module has `register(subparsers)`, which adds its subcommand
and sets `run` to a function taking the parsed arguments and returning the
exit code. Front ends import GL and heavy libraries inside `run`, so parsing
stays fast. Every user error ends as one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from realtime.errors import InputError

EXIT_USAGE = 2
FRONT_ENDS = (
    "realtime.render",
    "realtime.demo",
    "realtime.bench",
    "realtime.preview",
    "realtime.show",
    "realtime.info",
)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (argparse prints the whole usage otherwise)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="rackfocus", description="Thin-lens depth of field and rack focus for RGB-D images."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name in FRONT_ENDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except InputError as exc:
        sys.stderr.write(f"rackfocus: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("rackfocus: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
