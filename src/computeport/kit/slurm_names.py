"""Every Slurm-facing name computeport generates, made in one place and by one rule.

Names are generated **once**, stored (each column is unique) and never recomputed, so the
cluster's accounting never changes under a tenant because a row was re-read.  They are never
derived from a time-ordered id: the first 12 hex digits of a UUIDv7 are its millisecond
timestamp, so rows created in the same millisecond (a seed, a bulk import, a migration) got the
same name and two organisations shared one Slurm parent account.

Slurm's rules every generated name respects (sacctmgr(1), Slurm 22.05):

* **Lower case.**  "The contents of Slurm's database are maintained in lower case" (sacctmgr(1),
  NOTE): Slurm stores ``Org_A`` as ``org_a``.  A name with capitals would never compare equal
  to what ``sacctmgr show`` returns, so every reconcile would plan it again.
* **Characters ``a-z``, ``0-9`` and ``_``, starting with a letter.**  sacctmgr splits its
  arguments at ``,`` (lists), ``=`` (key=value), white space and quotes; a leading ``+`` or
  ``-`` in a QOS list means add/remove; ``.`` and ``-`` are awkward in ``scontrol`` and in
  POSIX-ish tooling.  The safe, portable set is letters, digits and underscore.
* **Length.**  The accounting database keeps an account or QOS name in a MySQL ``tinytext``
  column (``acct_table.name``, ``qos_table.name``: at most 255 bytes).  computeport's columns
  hold 64 characters; generated names are at most :data:`MAX_GENERATED` (32) characters, short
  enough to stay readable in ``squeue``/``sshare`` columns.

What is generated here:

* an organisation's parent account: ``org_<slug of its name, ≤ 20>_<6 random hex digits>``
  (:func:`organisation_account_name`), drawn again until no stored one has it;
* an award's account, and its QOS of the same name: the award's unique human reference,
  ``AISS-2026-0042`` → ``aiss_2026_0042``, then ``_2``, ``_3``… if that is taken
  (:func:`award_account_name`, :func:`numbered`).

Not generated, but checked by the same rule where people type them: reservation names (the
cluster's is ``cp_<name>``) and POSIX usernames (validated in the identity service).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

__all__ = [
    "MAX_GENERATED",
    "SLURM_NAME_RE",
    "NameSpaceExhausted",
    "award_account_name",
    "numbered",
    "organisation_account_name",
    "slug",
    "unique_name",
]

MAX_GENERATED = 32
"""Longest generated name (Slurm allows 255 bytes; computeport's columns 64 characters)."""
SLURM_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
"""What every generated name matches (lower case, letters, digits, underscore)."""
_ORG_SLUG = 20
_ORG_RANDOM_BYTES = 3  # 6 hex digits: 16.7 million per slug, drawn again on a collision
_ATTEMPTS = 50


class NameSpaceExhausted(RuntimeError):
    """No free name was found in :data:`_ATTEMPTS` draws (a bug or a full name space)."""


def slug(text: str, limit: int) -> str:
    """``text`` as lower-case ``[a-z0-9_]`` words, at most ``limit`` characters, or ``""``."""
    words = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return words[:limit].rstrip("_")


def organisation_account_name(name: str, token: str | None = None) -> str:
    """A fresh parent-account name for the organisation called ``name``.

    ``org_<slug>_<token>``: the slug makes it recognisable in ``sacctmgr`` output, the random
    ``token`` (6 hex digits unless given) makes organisations with the same slug — or created
    in the same millisecond — distinct.  Store the result; never call this to *find* a name.
    """
    words = slug(name, _ORG_SLUG)
    token = secrets.token_hex(_ORG_RANDOM_BYTES) if token is None else token
    return f"org_{words}_{token}" if words else f"org_{token}"


def award_account_name(reference: str) -> str:
    """``AISS-2026-0042`` → ``aiss_2026_0042``: an award's account (and QOS) name.

    The reference is unique and human, so operators recognise the account; :func:`numbered`
    makes it unique among stored accounts should two references slug alike.
    """
    words = slug(reference, MAX_GENERATED - 4)  # room for a "_NNN" suffix
    if not words or not words[0].isalpha():
        words = f"a_{words}".rstrip("_")[: MAX_GENERATED - 4]
    return words


def numbered(base: str, n: int) -> str:
    """The ``n``-th candidate of a sequence: ``base``, ``base_2``, ``base_3``…"""
    return base if n == 1 else f"{base}_{n}"


def unique_name(candidate: Callable[[int], str], taken: Callable[[str], bool]) -> str:
    """The first of ``candidate(1)``, ``candidate(2)``… that ``taken`` says is free.

    ``taken`` looks in the store (the unique column is the final word: a concurrent writer
    that wins the race makes the other's insert fail, never a shared name).
    """
    for attempt in range(1, _ATTEMPTS + 1):
        name = candidate(attempt)
        if not SLURM_NAME_RE.match(name) or len(name) > MAX_GENERATED:
            raise ValueError(f"generated Slurm name {name!r} breaks Slurm's rules")
        if not taken(name):
            return name
    raise NameSpaceExhausted(f"no free Slurm name after {_ATTEMPTS} attempts")
