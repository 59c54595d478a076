"""The rate card: versioned prices (GPU-hours, QOS factors, tokens, audio minutes), approved.

What other domains call (a stable surface: the inference gateway prices tokens with it):

- :func:`token_price` / :func:`audio_minute_price`: the price in force for (model, instant), with
  the version id a charge records; :class:`PriceBook` answers the same from memory in bulk;
- :func:`price_in_force`: the GPU-hour price of an accelerator type at an instant.
"""

from computeport.pricing.book import AudioPrice, PriceBook, PriceEntry, TokenPrice
from computeport.pricing.service import (
    SCHEME_CURRENCY,
    audio_minute_price,
    price_in_force,
    set_audio_price,
    set_token_price,
    token_price,
)

__all__ = [
    "SCHEME_CURRENCY",
    "AudioPrice",
    "PriceBook",
    "PriceEntry",
    "TokenPrice",
    "audio_minute_price",
    "price_in_force",
    "set_audio_price",
    "set_token_price",
    "token_price",
]
