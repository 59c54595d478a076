"""A scenario's (or the database's) awards and rates turned into the inputs of the five flows.

Kept apart from :mod:`computeport.capacity.flows` so the flows stay a pure model of demand and
this module holds the one place that says how a scenario's keys map onto it: active awards are
committed, pending awards are the pipeline, ``organisations`` grow into new entrants, and the
envelope left is the envelope less what the active awards commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from computeport.capacity.flows import CommittedAward, FlowParams, PipelineEntry, copay_share
from computeport.capacity.scenario import Flows, Scenario

if TYPE_CHECKING:
    from computeport.capacity.demand import AwardDemand

__all__ = ["flow_inputs", "flow_params"]


def flow_params(scenario: Scenario, flows: Flows, committed_gpu_hours: float) -> FlowParams:
    """The scenario's rates; the envelope left after ``committed_gpu_hours`` (list GPU-hours)."""
    orgs = scenario.demand.organisations
    paid = flows.list_price_hkd_per_gpu_hour * flows.subsidy_rate
    return FlowParams(
        approval_rates=dict(flows.approval_rates),
        decision_lead_months=flows.decision_lead_months,
        stale_after_months=flows.stale_after_months,
        renewal_share=flows.renewal_share,
        renewal_gap_months=flows.renewal_gap_months,
        renewal_size=flows.renewal_size,
        entrants_per_year=orgs.growth_per_year,
        entrants_sd_per_year=orgs.growth_sd_per_year,
        entrant_award_share=flows.entrant_award_share,
        entrant_gpu_hours_month=flows.entrant_gpu_hours_month,
        entrant_sigma=flows.entrant_sigma,
        entrant_months=flows.entrant_months,
        intensity_growth_per_year=orgs.intensity_growth_per_year,
        burn_sigma=flows.burn_sigma,
        monthly_noise_sigma=orgs.monthly_noise_sigma,
        envelope_remaining_hkd=max(0.0, flows.envelope_hkd - committed_gpu_hours * paid),
        cost_per_gpu_hour_hkd=paid,
        copay_share=copay_share(flows.subsidy_rate, flows.copay_elasticity),
    )


def flow_inputs(
    scenario: Scenario,
    flows: Flows,
    awards: Sequence[AwardDemand] | None,
    to_reference: Callable[[str], float],
) -> tuple[list[CommittedAward], list[PipelineEntry], FlowParams]:
    """Committed awards and pipeline (reference GPU-hours) and the rates, from the scenario.

    ``awards`` (e.g. from the database) replace the scenario's own; a pending one becomes an
    application submitted one decision lead time before its start.
    """
    share = scenario.demand.award_usage_share
    committed: list[CommittedAward] = []
    pipeline: list[PipelineEntry] = []
    listed = 0.0
    if awards is None:
        for a in scenario.demand.awards:
            k = to_reference(a.accelerator) * share
            if a.status == "pending":
                if scenario.demand.include_pending:
                    pipeline.append(
                        PipelineEntry(
                            a.name,
                            a.gpu_hours * k,
                            _months(a.start, a.end),
                            a.submitted or _before(a.start, flows.decision_lead_months),
                            a.category,
                        )
                    )
                continue
            listed += a.gpu_hours
            burn = None if a.burn_per_month is None else a.burn_per_month * k
            committed.append(
                CommittedAward(a.name, a.gpu_hours * k, a.start, a.end, a.used_gpu_hours * k, burn)
            )
    else:
        for d in awards:
            k = to_reference(d.accelerator) * share
            if d.pending:
                if scenario.demand.include_pending:
                    pipeline.append(
                        PipelineEntry(
                            d.name,
                            d.gpu_hours * k,
                            _months(d.start, d.end),
                            _before(d.start, flows.decision_lead_months),
                        )
                    )
                continue
            listed += d.gpu_hours
            committed.append(CommittedAward(d.name, d.gpu_hours * k, d.start, d.end))
    return committed, pipeline, flow_params(scenario, flows, listed)


def _months(start: dt.date, end: dt.date) -> int:
    return max(1, round((end - start).days / (365.25 / 12)))


def _before(day: dt.date, months: float) -> dt.date:
    return day - dt.timedelta(days=round(months * 365.25 / 12))
