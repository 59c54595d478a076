"""Typed errors of the pricing domain, in one module so a raise and its ``except`` name one class.

The problem type an API client sees is the class name, so a second class of the same name would
render the same problem yet escape an ``except`` (``tests/test_unique_names.py`` checks it).
"""

from __future__ import annotations

from computeport.kit.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class PriceNotFound(NotFound):
    """No price in force for that accelerator type at that time."""


class PriceChangeNotFound(NotFound):
    title = "Price change not found"


class UnknownPricedThing(ValidationFailed):
    """An accelerator type, QOS, site or cluster the centre does not have: a price for it would
    rate nothing."""

    title = "Unknown accelerator type, QOS, site or cluster"


class SamePersonApproval(PermissionDenied):
    """The two-person rule: whoever drafted a price change may not approve it."""

    title = "Drafted and approved by the same person"


class RetroactivePrice(Conflict):
    """A price may only take effect after it is approved: charges already rated stay rated."""

    title = "Price would take effect in the past"


__all__ = [
    "PriceChangeNotFound",
    "PriceNotFound",
    "RetroactivePrice",
    "SamePersonApproval",
    "UnknownPricedThing",
]
