"""Find the line of a key in a TOML text, so an error can say ``file.toml:23``.

``tomllib`` gives positions only for syntax errors; a validation error (Pydantic's or a cross
reference) comes as a key path like ``("clusters", "cyberport-h800", "partitions", "gpu",
"nodes")``.  This module reads the text once, line by line, tracking the current table header
(itself parsed by ``tomllib``, so quoting and dotted names follow TOML exactly) and every
``key = value`` line under it, and answers with the line of the longest known prefix of a path:
the key itself when it is written, else the table that should hold it.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

_HEADER = re.compile(r"^\s*\[(?!\[)(.+?)\]\s*(#.*)?$")
_KEY = re.compile(r'^\s*([A-Za-z0-9_-]+|"[^"]*")\s*=')


def _header_path(text: str) -> tuple[str, ...] | None:
    """The key path of a ``[a.b."c"]`` header, or None if the line is not one."""
    try:
        table: Any = tomllib.loads(text + "\n")
    except tomllib.TOMLDecodeError:
        return None
    path: list[str] = []
    while isinstance(table, dict) and len(table) == 1:
        key, table = next(iter(table.items()))
        path.append(key)
    return tuple(path)


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Every table and key path written in ``text`` → its 1-based line number."""
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            path = _header_path(f"[{header.group(1)}]")
            if path is not None:
                table = path
                lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            lines.setdefault((*table, key.group(1).strip('"')), number)
    return lines


def line_of(lines: dict[tuple[str, ...], int], path: tuple[str, ...]) -> int | None:
    """The line of ``path``, or of its longest written prefix; None when nothing matches."""
    for end in range(len(path), 0, -1):
        found = lines.get(path[:end])
        if found is not None:
            return found
    return None


__all__ = ["key_lines", "line_of"]
