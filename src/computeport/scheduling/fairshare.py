"""Fair share: usage per account that decays with a half-life, and Slurm's classic factor.

Usage ``U`` is GPU-seconds, decayed by ``2^(−Δt / half_life)``; the factor is
``F = 2^(−U/S)`` with ``U`` the account's share of all decayed usage and ``S`` its normalised
shares (equal shares unless given). An account that used nothing has ``F = 1``.
"""

from __future__ import annotations

__all__ = ["DecayedUsage"]


class DecayedUsage:
    """Decayed GPU-second usage per account, anchored at ``updated_s`` (after Kueue's ledger)."""

    def __init__(self, half_life_s: int, shares: dict[str, float] | None = None) -> None:
        if half_life_s <= 0:
            raise ValueError("half_life_s must be positive")
        self.half_life_s = half_life_s
        self.shares: dict[str, float] = dict(shares or {})
        self.usage: dict[str, float] = {}
        self.updated_s = 0
        self._factors: dict[str, float] = {}
        """Factors worked out since usage last changed (a recalculation asks per job)."""

    def decay_to(self, now_s: int) -> None:
        """Age every account's usage to ``now_s`` (a no-op when time has not moved)."""
        dt = now_s - self.updated_s
        if dt <= 0:
            return
        self._factors.clear()
        k = 2.0 ** (-dt / self.half_life_s)
        for account in self.usage:
            self.usage[account] *= k
        self.updated_s = now_s

    def add(self, account: str, gpu_seconds: float) -> None:
        """Charge usage at the anchor time (call :meth:`decay_to` first)."""
        self.usage[account] = self.usage.get(account, 0.0) + gpu_seconds
        self._factors.clear()

    def factor(self, account: str) -> float:
        """``2^(−U/S)`` in (0, 1]."""
        cached = self._factors.get(account)
        if cached is None:
            cached = self._factors[account] = self._factor(account)
        return cached

    def _factor(self, account: str) -> float:
        total = sum(self.usage.values())
        if total <= 0.0:
            return 1.0
        u = self.usage.get(account, 0.0) / total
        if self.shares:
            share_total = sum(self.shares.values())
            s = self.shares.get(account, 0.0) / share_total if share_total > 0 else 0.0
        else:
            s = 1.0 / max(1, len(self.usage))
        if s <= 0.0:
            return 0.0
        return float(2.0 ** (-u / s))
