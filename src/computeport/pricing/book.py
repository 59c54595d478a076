"""The rate card in memory: every version, looked up by key and instant without the database.

Rating asks millions of times which version was in force; :class:`PriceBook` loads the table
once and answers by bisection.  A version's end is not stored (the table is append-only): it is
the start of its key's next version, derived here when the book is built.

A key is (kind, subject, site, cluster).  A lookup for a cluster takes the most specific price in
force: the cluster's, then the site's, then the centre's (site and cluster NULL), so a price per
site can be added later without touching the centre-wide ones.  Usage records name only their
cluster (Slurm's ClusterName); the book maps it to its site through the loaded inventory, so a
site's price (a costlier accelerator at Sandy Ridge) rates every cluster there.  With no
inventory loaded (one cluster, as before sites) the map is empty and the cluster's own price,
then the centre's, apply.
"""

from __future__ import annotations

import bisect
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from computeport.models.centre import CentreCluster, CentreSite
from computeport.models.pricing import PriceKind, PriceVersion

Scope = tuple[str | None, str | None]
"""(site, cluster); (None, None) is the whole centre."""
CENTRE: Scope = (None, None)


@dataclass(frozen=True, slots=True)
class PriceEntry:
    """A price version, detached from the session, with its derived end (None: open)."""

    id: uuid.UUID
    kind: PriceKind
    subject: str
    site: str | None
    cluster: str | None
    unit_price: Decimal
    unit_price_output: Decimal | None
    valid_from: datetime
    valid_to: datetime | None
    is_assumption: bool
    note: str

    @property
    def accelerator_type(self) -> str:
        return self.subject

    @property
    def end_epoch(self) -> float:
        return self.valid_to.timestamp() if self.valid_to is not None else math.inf


@dataclass(frozen=True, slots=True)
class TokenPrice:
    """The price of inference tokens on one model: HK$ per million input and output tokens."""

    version_id: uuid.UUID
    model: str
    per_million_input: Decimal
    per_million_output: Decimal
    valid_from: datetime
    currency: str = "HKD"


@dataclass(frozen=True, slots=True)
class AudioPrice:
    """The price of one minute of audio on one speech model, in HK$."""

    version_id: uuid.UUID
    model: str
    per_minute: Decimal
    valid_from: datetime
    currency: str = "HKD"


_Key = tuple[PriceKind, str, str | None, str | None]


def entries_of(rows: Iterable[PriceVersion]) -> list[PriceEntry]:
    """Detach ``rows`` and give each its end: the next start of the same key."""
    by_key: dict[_Key, list[PriceVersion]] = {}
    for r in rows:
        by_key.setdefault((r.kind, r.subject, r.site, r.cluster), []).append(r)
    out: list[PriceEntry] = []
    for versions in by_key.values():
        versions.sort(key=lambda v: v.valid_from)
        for i, v in enumerate(versions):
            end = versions[i + 1].valid_from if i + 1 < len(versions) else None
            out.append(
                PriceEntry(
                    v.id,
                    PriceKind(v.kind),
                    v.subject,
                    v.site,
                    v.cluster,
                    v.unit_price,
                    v.unit_price_output,
                    v.valid_from,
                    end,
                    v.is_assumption,
                    v.note,
                )
            )
    return out


def cluster_sites(session: Session) -> dict[str, str]:
    """Every inventory cluster's name → its site's key (empty when no inventory is loaded)."""
    stmt = select(CentreCluster.name, CentreSite.key).join(
        CentreSite, CentreCluster.site_id == CentreSite.id
    )
    return {name: key for name, key in session.execute(stmt)}


class PriceBook:
    """Every price version, loaded once, for fast lookups while rating."""

    def __init__(
        self, entries: Iterable[PriceEntry], sites: Mapping[str, str] | None = None
    ) -> None:
        self._site_of: dict[str, str] = dict(sites or {})
        self._by_key: dict[_Key, list[PriceEntry]] = {}
        for e in sorted(entries, key=lambda e: e.valid_from):
            self._by_key.setdefault((e.kind, e.subject, e.site, e.cluster), []).append(e)
        self._starts = {k: [e.valid_from.timestamp() for e in vs] for k, vs in self._by_key.items()}
        self._subjects: dict[PriceKind, set[str]] = {}
        for kind, subject, _, _ in self._by_key:
            self._subjects.setdefault(kind, set()).add(subject)
        # The last GPU-hour answer per (type, cluster) and its validity: consecutive records
        # mostly share a version, so ingest's check skips the search for them.
        self._last: dict[tuple[str, str | None], tuple[float, float, PriceEntry | None]] = {}

    @classmethod
    def load(cls, session: Session) -> PriceBook:
        return cls(entries_of(session.scalars(select(PriceVersion)).all()), cluster_sites(session))

    def site_of(self, cluster: str | None) -> str | None:
        """The inventory's site of ``cluster``, or None (not in the inventory, or none loaded)."""
        return self._site_of.get(cluster) if cluster is not None else None

    def entries(self) -> list[PriceEntry]:
        """Every version, by key then start."""
        return [e for k in sorted(self._by_key, key=str) for e in self._by_key[k]]

    def subjects(self, kind: PriceKind) -> set[str]:
        return set(self._subjects.get(kind, ()))

    def knows(self, accelerator_type: str) -> bool:
        """Whether the accelerator type has ever had a GPU-hour price."""
        return accelerator_type in self._subjects.get(PriceKind.GPU_HOUR, ())

    def _exact(self, key: _Key, when_epoch: float) -> PriceEntry | None:
        starts = self._starts.get(key)
        if not starts:
            return None
        i = bisect.bisect_right(starts, when_epoch) - 1
        return self._by_key[key][i] if i >= 0 else None

    def _next_start(self, key: _Key, when_epoch: float) -> float:
        starts = self._starts.get(key)
        if not starts:
            return math.inf
        i = bisect.bisect_right(starts, when_epoch)
        return starts[i] if i < len(starts) else math.inf

    def resolve(
        self,
        kind: PriceKind,
        subject: str,
        when_epoch: float,
        *,
        site: str | None = None,
        cluster: str | None = None,
    ) -> tuple[PriceEntry | None, float]:
        """The most specific version in force at ``when_epoch``, and until when that holds.

        The second value is the instant the answer may change: the found version's end, or the
        start of a more specific (or, when none was found, any) version of the subject —
        callers that cache by validity (rating) cache up to it.
        """
        if site is None:
            site = self.site_of(cluster)
        scopes: list[Scope] = list(dict.fromkeys([(site, cluster), (None, cluster), (site, None)]))
        scopes = [s for s in scopes if s != CENTRE] + [CENTRE]
        until = math.inf
        for site_, cluster_ in scopes:
            key = (kind, subject, site_, cluster_)
            found = self._exact(key, when_epoch)
            if found is not None:
                return found, min(until, found.end_epoch)
            until = min(until, self._next_start(key, when_epoch))
        return None, until

    def at(
        self, accelerator_type: str, when_epoch: float, *, cluster: str | None = None
    ) -> PriceEntry | None:
        """The GPU-hour version in force for ``accelerator_type`` at ``when_epoch``, or None."""
        last = self._last.get((accelerator_type, cluster))
        if last is not None and last[0] <= when_epoch < last[1]:
            return last[2]
        found, until = self.resolve(
            PriceKind.GPU_HOUR, accelerator_type, when_epoch, cluster=cluster
        )
        # Nothing more specific starts in [found's start, when], so the answer holds from there.
        start = found.valid_from.timestamp() if found is not None else when_epoch
        self._last[(accelerator_type, cluster)] = (start, until, found)
        return found

    def multiplier_at(self, qos: str, when_epoch: float) -> tuple[Decimal, float, float]:
        """The QOS factor at ``when_epoch`` and the [start, end) over which it holds.

        A QOS never priced pays list price (factor 1).
        """
        entry, until = self.resolve(PriceKind.QOS_MULTIPLIER, qos, when_epoch)
        if entry is None:
            return Decimal(1), -math.inf, until
        return entry.unit_price, entry.valid_from.timestamp(), until

    def multiplier(self, qos: str, when_epoch: float = math.inf) -> Decimal:
        """The QOS factor at ``when_epoch`` (by default the latest announced)."""
        return self.multiplier_at(qos, when_epoch)[0]

    def token_price(self, model: str, when_epoch: float) -> TokenPrice | None:
        """HK$ per million input and output tokens of ``model`` at ``when_epoch``, or None."""
        entry = self.resolve(PriceKind.TOKENS, model, when_epoch)[0]
        if entry is None or entry.unit_price_output is None:
            return None
        return TokenPrice(
            entry.id, model, entry.unit_price, entry.unit_price_output, entry.valid_from
        )

    def audio_price(self, model: str, when_epoch: float) -> AudioPrice | None:
        """HK$ per audio minute of ``model`` at ``when_epoch``, or None."""
        entry = self.resolve(PriceKind.AUDIO_MINUTE, model, when_epoch)[0]
        if entry is None:
            return None
        return AudioPrice(entry.id, model, entry.unit_price, entry.valid_from)


__all__ = [
    "CENTRE",
    "AudioPrice",
    "PriceBook",
    "PriceEntry",
    "Scope",
    "TokenPrice",
    "cluster_sites",
    "entries_of",
]
