"""TOML files with line numbers in their errors: the reader under cue files and show configs.

`read_toml` parses a file and turns syntax errors into one line naming the file
and line; `Table` gives typed access to one table whose failures name the file,
the line and the key (`show.toml:14: [[focus]] #2 key 'easing': unknown easing
...`); `toml_value` spells a Python value as TOML for files we write.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from realtime.errors import InputError


class TomlError(InputError):
    """A bad TOML file; the message is `file:line: [section] key 'name': what is wrong`."""

    def __init__(self, message: str, path: str, line: int | None, key: str | None) -> None:
        super().__init__(message)
        self.path = path  # the file, as given
        self.line = line  # 1-based line of the problem, None if unknown
        self.key = key  # the offending key, None for a whole section


def toml_error(path: str, line: int | None, where: str, key: str | None, msg: str) -> TomlError:
    """The error for `key` of table `where` (or the table itself) at `line` of `path`."""
    at = f"{path}:{line}" if line is not None else path
    what = f"{where} key '{key}'" if key is not None else where
    return TomlError(f"{at}: {what}: {msg}", path, line, key)


# --- Line numbers ---------------------------------------------------------------------------
# tomllib reports lines only for syntax errors, so keys are located by scanning the text:
# a line `[name]` or `[[name]]` opens a table (array tables are numbered from 1 in order),
# a line `key = ...` records the key in the current table. Lines inside multi-line strings
# are skipped. Inline tables and dotted keys are not followed; their keys fall back to the
# line of the table that holds them. The result is only used to point messages at a line.

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")


@dataclass(frozen=True)
class KeyLines:
    """1-based line numbers of the tables and keys of a TOML text."""

    tables: Mapping[tuple[str, int], int]  # (table, index) -> header line; index 0: plain table
    keys: Mapping[tuple[str, int, str], int]  # (table, index, key) -> line; table "" is the root

    @classmethod
    def scan(cls, text: str) -> KeyLines:
        """Scan `text` (see the comment above for what is understood)."""
        tables: dict[tuple[str, int], int] = {}
        keys: dict[tuple[str, int, str], int] = {}
        counts: dict[str, int] = {}
        table = ("", 0)
        in_string: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_string is not None:
                if in_string in line:
                    in_string = None
                continue
            if m := _HEADER.match(line):
                name = m.group(2).strip("\"' ")
                index = 0
                if m.group(1) == "[[":
                    index = counts[name] = counts.get(name, 0) + 1
                table = (name, index)
                tables.setdefault(table, number)
            elif m := _KEY.match(line):
                keys.setdefault((*table, m.group(1).strip("\"'")), number)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_string = quote
        return cls(tables, keys)

    def find(self, table: str, index: int, key: str | None = None) -> int | None:
        """Line of `key` in a table (or of the table itself), falling back to the table."""
        if key is not None:
            if (table, index, key) in self.keys:
                return self.keys[(table, index, key)]
            if table == "":
                return self.tables.get((key, 0), self.tables.get((key, 1)))
        return self.tables.get((table, index))


# --- Typed access to one table --------------------------------------------------------------

_MISSING = object()


class Table:
    """One table of a TOML file: typed getters that raise TomlError with file, line and key."""

    def __init__(
        self, path: str, lines: KeyLines, name: str, index: int, data: Mapping[str, object]
    ) -> None:
        self.path = path
        self.lines = lines
        self.name = name
        self.index = index
        self.data = data
        self.label = f"[[{name}]] #{index}" if index else f"[{name}]"

    def fail(self, key: str | None, msg: str) -> NoReturn:
        """Raise TomlError at the line of `key` (or of this table when key is None or absent)."""
        raise toml_error(
            self.path, self.lines.find(self.name, self.index, key), self.label, key, msg
        )

    def check_keys(self, known: Iterable[str]) -> None:
        """Reject the first key, in file order, that is not in `known`."""
        known = tuple(known)
        for key in self.data:
            if key not in known:
                self.fail(key, f"unknown key (expected one of {', '.join(known)})")

    def has(self, key: str) -> bool:
        """Whether the table sets `key`."""
        return key in self.data

    def number(
        self,
        key: str,
        default: object = _MISSING,
        minimum: float | None = None,
        positive: bool = False,
    ) -> float:
        """A finite number (TOML integer or float) as float; optionally positive or >= minimum."""
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"expected a number, got {toml_repr(value)}")
        if not math.isfinite(value):
            self.fail(key, f"expected a finite number, got {value}")
        if positive and not value > 0:
            self.fail(key, f"must be positive, got {value}")
        if minimum is not None and not value >= minimum:
            self.fail(key, f"must be >= {minimum}, got {value}")
        return float(value)

    def integer(
        self, key: str, default: object = _MISSING, bounds: tuple[int, int] | None = None
    ) -> int:
        """A TOML integer, optionally within inclusive `bounds`."""
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"expected an integer, got {toml_repr(value)}")
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            self.fail(key, f"must be in {bounds[0]}..{bounds[1]}, got {value}")
        return value

    def string(self, key: str, default: object = _MISSING) -> str:
        """A TOML string."""
        value = self._get(key, default)
        if not isinstance(value, str):
            self.fail(key, f"expected a string, got {toml_repr(value)}")
        return value

    def choice(self, key: str, choices: Iterable[str], default: object = _MISSING) -> str:
        """A string that must be one of `choices`; the message lists them."""
        value = self.string(key, default)
        choices = tuple(choices)
        if value not in choices:
            self.fail(key, f"unknown {key} {value!r} (expected {', '.join(choices)})")
        return value

    def int_pair(self, key: str, minimum: int) -> tuple[int, int]:
        """A required array of two integers, each >= minimum."""
        value = self._get(key, _MISSING)
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        ):
            self.fail(key, f"expected two integers [a, b], got {toml_repr(value)}")
        if not all(v >= minimum for v in value):
            self.fail(key, f"values must be >= {minimum}, got {toml_repr(value)}")
        return value[0], value[1]

    def file(self, key: str, base: Path) -> Path:
        """A required path, relative to `base`, of a file that exists."""
        path = base / self.string(key)
        if not path.is_file():
            self.fail(key, f"no such file: {path}")
        return path

    def _get(self, key: str, default: object) -> typing.Any:
        """The raw value of `key`, `default` if absent; absent without a default is an error."""
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            self.fail(key, "missing (required)")
        return default


def toml_repr(value: object) -> str:
    """How a value reads in a message: TOML spelling for booleans, 'a table' for tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    return repr(value)


_SYNTAX_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def read_toml(path: str | Path, what: str = "TOML file") -> tuple[dict[str, typing.Any], KeyLines]:
    """Parse `path`; TomlError with the line of a syntax error, or why it cannot be read."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise TomlError(f"{name}: cannot read {what}: {reason}", name, None, None) from e
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = _SYNTAX_AT.search(msg)
        line = int(m.group(1)) if m else None
        if m:
            msg = f"{msg[: m.start()]} (column {m.group(2)})"
        at = f"{name}:{line}" if line is not None else name
        raise TomlError(f"{at}: TOML syntax error: {msg}", name, line, None) from e
    return data, KeyLines.scan(text)


def toml_value(value: object) -> str:
    """`value` (bool, int, float, str, path or a list of them) spelled as a TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


__all__ = ["KeyLines", "Table", "TomlError", "read_toml", "toml_error", "toml_repr", "toml_value"]
