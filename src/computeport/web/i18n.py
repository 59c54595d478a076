"""English and Traditional Chinese (zh-Hant), switchable per user.

The zh-Hant catalogue is a gettext ``.po`` file read at start-up with Babel
(:mod:`computeport.web.catalogue`), not compiled ``.mo`` files: nothing to build in CI, and a
test checks that every message the templates and routes use has a zh-Hant translation.
Messages are their own English text; :func:`translator` returns the lookup for a locale,
with ``{name}`` placeholders filled by ``str.format``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, Literal

from computeport.web.catalogue import ZH_HANT

Locale = Literal["en", "zh-Hant"]
SUPPORTED: Final[tuple[Locale, ...]] = ("en", "zh-Hant")
DEFAULT_LOCALE: Final[Locale] = "en"
LANGUAGE_NAMES: Final[dict[Locale, str]] = {"en": "English", "zh-Hant": "繁體中文"}

Translate = Callable[..., str]


def normalise(value: str | None) -> Locale:
    """A supported locale from a stored or requested tag (``zh-HK``, ``zh_TW`` → zh-Hant)."""
    if not value:
        return DEFAULT_LOCALE
    tag = value.strip().replace("_", "-").lower()
    if tag.startswith("zh") and not tag.startswith(("zh-hans", "zh-cn", "zh-sg")):
        return "zh-Hant"
    return DEFAULT_LOCALE


def negotiate(accept_language: str | None) -> Locale:
    """The best supported locale for an ``Accept-Language`` header (anonymous visitors)."""
    if not accept_language:
        return DEFAULT_LOCALE
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, index, tag.strip()))
    for _q, _i, tag in sorted(ranked):
        lowered = tag.lower()
        if lowered.startswith("zh") and normalise(tag) == "zh-Hant":
            return "zh-Hant"
        if lowered.startswith("en"):
            return "en"
    return DEFAULT_LOCALE


_CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")
EN_LABELS: Final[dict[str, str]] = {"rd_centre": "R&D centre", "ai": "AI", "payg": "Pay as you go"}
"""English words for codes whose plain spelling would read wrongly."""


def humanise(code: str) -> str:
    """A stored code as English words: ``public_sector`` → ``Public sector``."""
    if code in EN_LABELS:
        return EN_LABELS[code]
    return code.replace("_", " ").capitalize()


def translator(locale: Locale) -> Translate:
    """``_("Welcome, {name}", name="Ada")`` in ``locale``.

    Messages are English sentences; stored codes (``under_review``, ``public_sector``) are
    also accepted and shown as words.  An untranslated message stays English.
    """
    table = ZH_HANT if locale == "zh-Hant" else {}

    def _(message: str, **values: object) -> str:
        text = table.get(message)
        if text is None:
            text = humanise(message) if _CODE.match(message) else message
        return text.format(**values) if values else text

    return _
