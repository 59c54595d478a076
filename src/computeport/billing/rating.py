"""Rating rules, free of the database: what one record costs and who pays it.

DESIGN.md's money rules, in order:

1. a job ended by the centre (node failure, maintenance cancel) is not charged: CREDITED,
   its would-be list price shown as credited;
2. charge = GPU-seconds × (list price in force at the job's end × QOS multiplier) / 3600,
   rounded half-up to the cent;
3. on no award (the organisation's own account): PAYG, all of it to the organisation;
4. on an award's account but ending outside ``[starts_at, ends_at)``: OUTSIDE_AWARD at full
   list price (``payg`` terms) or REFUSED (``refuse`` terms);
5. within the award: the subsidy is charge × rate rounded half-down and the co-payment the
   rest, while the award's HK$ cap lasts.  The cap is consumed in (job end, cluster, job id)
   order (:func:`order_key`); the record that crosses it gets what is left of the cap as
   subsidy and pays the rest (OVER_CAP), later ones pay list price — or, under ``refuse``
   terms, a record whose subsidy no longer fits is REFUSED (not charged, reported).
"""

from __future__ import annotations

from typing import NamedTuple

from computeport.billing.arith import Rate
from computeport.models.award import OverCapPolicy
from computeport.models.metering import ChargeKind

OrderKey = tuple[float, str, tuple[int, int, str], float]


def order_key(end_epoch: float, cluster: str, job_id: str, submit_epoch: float) -> OrderKey:
    """The cap's consumption order: job end, cluster, job id (numeric when it is a number)."""
    job = (0, int(job_id), "") if job_id.isdigit() else (1, 0, job_id)
    return (end_epoch, cluster, job, submit_epoch)


class Amounts(NamedTuple):
    """The outcome of rating one record (all cents, non-negative).

    A NamedTuple, not a dataclass: a million of them are made per million records.
    """

    kind: ChargeKind
    list_minor: int
    subsidy_minor: int
    copay_minor: int
    credited_minor: int = 0


def credited(full_list: int) -> Amounts:
    return Amounts(ChargeKind.CREDITED, 0, 0, 0, full_list)


def pay_as_you_go(full_list: int) -> Amounts:
    return Amounts(ChargeKind.PAYG, full_list, 0, full_list)


def outside_award(full_list: int, policy: OverCapPolicy) -> Amounts:
    if policy is OverCapPolicy.REFUSE:
        return Amounts(ChargeKind.REFUSED, 0, 0, 0, full_list)
    return Amounts(ChargeKind.OUTSIDE_AWARD, full_list, 0, full_list)


def within_award(full_list: int, rate: Rate, remaining_cap: int, policy: OverCapPolicy) -> Amounts:
    """Rate a record on an award with ``remaining_cap`` cents of subsidy left."""
    subsidy, copay = rate.split(full_list)
    if subsidy <= remaining_cap:
        return Amounts(ChargeKind.SUBSIDISED, full_list, subsidy, copay)
    if policy is OverCapPolicy.REFUSE:
        return Amounts(ChargeKind.REFUSED, 0, 0, 0, full_list)
    left = max(remaining_cap, 0)
    return Amounts(ChargeKind.OVER_CAP, full_list, left, full_list - left)


__all__ = [
    "Amounts",
    "OrderKey",
    "credited",
    "order_key",
    "outside_award",
    "pay_as_you_go",
    "within_award",
]
