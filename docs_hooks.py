"""mkdocs hook: the reference parts of the docs that mirror code, generated at build time.

A page asks for one with a line `<!-- generated: NAME -->`; the build replaces it with
GENERATORS[NAME](), made from the code's own tables: the argparse parsers (the CLI
reference), the show's command model (the OSC table), the commands the preview's web
remote offers, the preview's key help, and the annotated examples in the cue file and
show config modules' docstrings. A name that is not known fails the build.
tests/test_docs.py imports this file too.
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import textwrap
from collections.abc import Callable

MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)
HELP_COLUMNS = "80"  # argparse wraps its help to the terminal's width: fix it


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """Every `rackfocus` subcommand's parser, from the real command line."""
    from realtime.cli import build_parser

    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise RuntimeError("rackfocus has no subcommands")


def cli_reference() -> str:
    """`rackfocus SUBCOMMAND --help` for each subcommand, as argparse prints it."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_COLUMNS
    try:
        parts = []
        for name, parser in subcommands().items():
            parts.append(f"## rackfocus {name}\n\n```text\n{parser.format_help().rstrip()}\n```\n")
        return "\n".join(parts)
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def osc_table() -> str:
    """The show's commands (OSC addresses, web remote messages) from its command model."""
    from realtime.show.commands import COMMANDS

    rows = ["| address | arguments | range | effect |", "|---|---|---|---|"]
    for spec in COMMANDS:
        rows.append(f"| `{spec.path}` | {spec.types} | {spec.ranges} | {spec.effect} |")
    return "\n".join(rows) + "\n"


def preview_remote_table() -> str:
    """The commands the preview's web remote offers, from realtime.preview.remote.OFFERS."""
    from realtime.preview.remote import OFFERS

    rows = ["| command | page control | what the preview does |", "|---|---|---|"]
    for offer in OFFERS:
        rows.append(f"| `{offer.path}` | {offer.control} | {offer.effect} |")
    return "\n".join(rows) + "\n"


def preview_keys() -> str:
    """The preview's keys and mouse actions: the text its H key prints."""
    from realtime.preview.options import HELP

    return f"```text\n{HELP}\n```\n"


def docstring_example(module: object) -> str:
    """The first indented block of a module's docstring (its annotated TOML example)."""
    doc = inspect.getdoc(module) or ""
    match = re.search(r"\n\n((?: {4}.*\n|\n)+)", doc + "\n")
    if match is None:
        raise RuntimeError(f"{module!r} has no example in its docstring")
    return f"```toml\n{textwrap.dedent(match.group(1)).strip()}\n```\n"


def cue_example() -> str:
    import realtime.cues

    return docstring_example(realtime.cues)


def show_example() -> str:
    import realtime.show.config

    return docstring_example(realtime.show.config)


GENERATORS: dict[str, Callable[[], str]] = {
    "cli": cli_reference,
    "osc-table": osc_table,
    "preview-keys": preview_keys,
    "preview-remote": preview_remote_table,
    "cue-example": cue_example,
    "show-example": show_example,
}


def expand(markdown: str) -> str:
    """The page with every generated marker replaced; an unknown name raises."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise ValueError(f"unknown generated section {name!r} (have {', '.join(GENERATORS)})")
        return GENERATORS[name]()

    return MARKER.sub(replace, markdown)


def on_page_markdown(markdown: str, **kwargs: object) -> str:
    """mkdocs event: a page's markdown, before it becomes HTML."""
    return expand(markdown)
