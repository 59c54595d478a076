"""The zh-Hant message catalogue, read at start-up from a gettext ``.po`` file with Babel.

Why a ``.po`` file: translations are data a translator edits with the usual tools, not Python;
``read_po`` reads the text file as it is, so nothing is compiled in CI or at install.  Keys
(msgids) are the English text used in templates and routes; ``tests/web/test_i18n.py`` checks
that every message used has an entry.

A catalogue that would mislead is refused at start-up with its line: a repeated msgid (Babel
would quietly keep the first), a plural or context entry (the portal's ``_`` has neither) or a
line that is not valid PO.  Fuzzy and empty translations are left out, as gettext does, so such
a message shows in English and the completeness test names it.
"""

from __future__ import annotations

import io
from importlib import resources
from typing import Final

from babel.messages.pofile import PoFileError, read_po, unescape

__all__ = ["PO_FILE", "ZH_HANT", "CatalogueError", "load_catalogue", "parse_catalogue"]

PO_FILE: Final = "locale/zh_Hant/LC_MESSAGES/messages.po"
"""The catalogue, relative to this package."""


class CatalogueError(ValueError):
    """A ``.po`` file the portal cannot use; the message names the file and line."""


def parse_catalogue(text: str, source: str = PO_FILE) -> dict[str, str]:
    """English msgid → translation, from the text of a ``.po`` file."""
    try:
        catalog = read_po(io.StringIO(text), abort_invalid=True)
    except PoFileError as exc:
        raise CatalogueError(f"{source}: {exc}") from None
    seen = {message.lineno for message in catalog if message.id}
    msgid_lines = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.startswith("msgid ")
    ]
    # The first entry is the header (msgid ""), which the catalog keeps apart.
    for number, line in msgid_lines[1:]:
        if number not in seen:
            msgid = unescape(line.removeprefix("msgid ").strip())
            raise CatalogueError(f"{source}:{number}: duplicate msgid {msgid!r}")
    table: dict[str, str] = {}
    for message in catalog:
        if not message.id:
            continue
        if not isinstance(message.id, str) or message.context is not None:
            raise CatalogueError(
                f"{source}:{message.lineno}: plural and context entries are not supported"
            )
        if message.fuzzy or not message.string:
            continue
        assert isinstance(message.string, str)
        table[message.id] = message.string
    return table


def load_catalogue() -> dict[str, str]:
    """The packaged zh-Hant catalogue."""
    text = resources.files(__package__ or "computeport.web").joinpath(PO_FILE).read_text("utf-8")
    return parse_catalogue(text)


ZH_HANT: Final[dict[str, str]] = load_catalogue()
"""English message → Traditional Chinese (Hong Kong usage), read when the web starts."""
