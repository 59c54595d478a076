"""Capacity planning: will supply keep up with demand, and what should be built when?

A scenario (TOML/YAML, :func:`load_scenario`) gives the supply (sites with dated capacity
steps per accelerator type), the demand (awards, organisations and their growth, job shapes
fitted to a real trace), the scheduling policy and the targets. :func:`plan_capacity`
simulates every month with the scheduling core over many seeds (bands), finds the first month
that breaks a target, and searches the smallest capacity steps that keep the targets;
:func:`approval_check` sets a batch of pending awards against what can be delivered.

For the portal: ``plan_capacity(scenario).to_dict()`` (or a saved ``plan.json``) and
:func:`plotly_figures` on that dict.
"""

from computeport.capacity.demand import AwardDemand, OrgGrowth
from computeport.capacity.errors import ScenarioError
from computeport.capacity.fanout import LocalRunner, Runner, SequentialRunner, SlurmArrayRunner
from computeport.capacity.recommend import ApprovalMonth, approval_check, first_unfit
from computeport.capacity.scenario import Scenario, load_scenario, parse_scenario
from computeport.capacity.service import CapacityPlan, plan_capacity, plotly_figures

__all__ = [
    "ApprovalMonth",
    "AwardDemand",
    "CapacityPlan",
    "LocalRunner",
    "OrgGrowth",
    "Runner",
    "Scenario",
    "ScenarioError",
    "SequentialRunner",
    "SlurmArrayRunner",
    "approval_check",
    "first_unfit",
    "load_scenario",
    "parse_scenario",
    "plan_capacity",
    "plotly_figures",
]
