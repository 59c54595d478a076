"""Capacity scenarios: TOML or YAML files parsed into validated Pydantic models.

A scenario is what an operator versions and compares: the supply (sites with dated capacity
steps per accelerator type), the demand (awards and the growth of organisations), the
scheduling policy the centre runs, the targets a plan must keep, and how hard to look
(seeds, job model). Every number that is not a published fact carries ``assumption = true``
(or sits in the labelled ``assumptions`` list), so a plan says what it rests on.

Bad input never half-loads: every problem is collected and reported at once, each naming its
field the way a reader finds it in the file (``sites[1].steps[0].date: …``) and, where the
file allows it, the line (``(line 23)``).
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from computeport.capacity.errors import ScenarioError
from computeport.kit.errors import ValidationFailed

__all__ = [
    "Accelerator",
    "AwardEntry",
    "CapacityStep",
    "Demand",
    "Evaluation",
    "Flows",
    "Labelled",
    "Organisations",
    "PolicyChoice",
    "Recommendation",
    "Scenario",
    "SiteEntry",
    "Targets",
    "WorkloadSource",
    "check_scenario",
    "load_scenario",
    "parse_scenario",
]

PositiveFloat = Annotated[float, Field(gt=0)]
Share = Annotated[float, Field(gt=0, le=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Accelerator(_Model):
    """An accelerator type and how PFLOPS turn into GPUs (FP16 dense by default, DESIGN.md)."""

    name: str = Field(min_length=1)
    pflops_per_gpu: PositiveFloat
    gpus_per_node: int = Field(default=8, ge=1)
    precision: str = "fp16-dense"
    assumption: bool = False
    note: str = ""


class CapacityStep(_Model):
    """From ``date`` on, the site holds this much of ``accelerator`` (a level, not an increment).

    Give the level as ``pflops`` (converted to whole nodes) or as ``gpus``, exactly one.
    """

    date: dt.date
    accelerator: str = Field(min_length=1)
    pflops: float | None = Field(default=None, ge=0)
    gpus: int | None = Field(default=None, ge=0)
    assumption: bool = False
    note: str = ""

    @model_validator(mode="after")
    def _one_level(self) -> CapacityStep:
        if (self.pflops is None) == (self.gpus is None):
            raise ValueError("give exactly one of pflops or gpus")
        return self


class SiteEntry(_Model):
    """A data centre and its capacity over time."""

    name: str = Field(min_length=1)
    steps: list[CapacityStep] = Field(min_length=1)
    assumption: bool = False
    note: str = ""


class AwardEntry(_Model):
    """Committed demand: an award's GPU-hours, spread evenly over ``[start, end)``."""

    name: str = Field(min_length=1)
    gpu_hours: PositiveFloat
    start: dt.date
    end: dt.date
    accelerator: str = Field(min_length=1)
    status: Literal["active", "pending"] = "active"
    used_gpu_hours: float = Field(default=0.0, ge=0)
    """GPU-hours used before the horizon starts (the burn-down so far)."""
    burn_per_month: float | None = Field(default=None, ge=0)
    """Measured GPU-hours a month (default: the remaining hours spread over the months left)."""
    category: str = "default"
    """The applicant's category, for a pending award's approval rate."""
    submitted: dt.date | None = None
    """When a pending award was applied for (default: the horizon's start)."""
    assumption: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> AwardEntry:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Organisations(_Model):
    """Unawarded demand: organisations that may use the centre, and how they grow.

    Demand in month m = count(m) × active_share × gpu_hours_per_active_org_month ×
    (1 + intensity_growth_per_year)^years, where count grows linearly by
    ``growth_per_year``. Per seed, the growth and the per-organisation demand are drawn around
    these values (``growth_sd_per_year``, log-normal ``demand_sigma``); each month adds
    log-normal noise ``monthly_noise_sigma``.
    """

    count: int = Field(ge=0)
    growth_per_year: float = Field(ge=0)
    growth_sd_per_year: float = Field(default=0.0, ge=0)
    active_share: Share
    gpu_hours_per_active_org_month: PositiveFloat
    intensity_growth_per_year: float = Field(default=0.0, gt=-1, le=10)
    demand_sigma: float = Field(default=0.0, ge=0, le=3)
    monthly_noise_sigma: float = Field(default=0.0, ge=0, le=3)
    assumption: bool = True


class WorkloadSource(_Model):
    """The real trace job sizes and run times are fitted to (read by the simulator's readers)."""

    trace: str = "philly.csv"
    """A path; a relative one is looked up beside the scenario, then in the traces folder."""
    format: Literal["philly", "alibaba", "swf", "csv"] = "philly"
    max_run_hours: PositiveFloat = 168.0
    """The longest job (a centre's maximum wall time; longer work checkpoints and resubmits)."""


Rate = Annotated[float, Field(ge=0, le=1)]


class Flows(_Model):
    """The scheme's own money as demand (``capacity.flows``): rates, envelope and elasticity.

    When a scenario gives this section, demand is the five flows instead of the awards plus
    one growth curve: pending awards become the pipeline (approved at ``approval_rates`` by
    ``category``, ``default`` for the rest), ``organisations.growth_per_year`` become new
    entrants, and the envelope caps the new subsidy. The organisations' own demand
    (``organisations.count``) is the co-paying demand of today.
    """

    envelope_hkd: PositiveFloat
    list_price_hkd_per_gpu_hour: PositiveFloat
    subsidy_rate: Share
    copay_elasticity: float = Field(default=0.5, ge=0, le=5)
    """Price elasticity of the demand that remains once users pay the full price."""
    approval_rates: dict[str, Rate] = Field(default_factory=lambda: {"default": 0.5})
    decision_lead_months: float = Field(default=2.0, ge=0, le=60)
    stale_after_months: float = Field(default=12.0, gt=0, le=120)
    renewal_share: Rate = 0.0
    renewal_gap_months: int = Field(default=1, ge=0, le=60)
    renewal_size: float = Field(default=1.0, gt=0, le=10)
    entrant_award_share: Rate = 0.0
    entrant_gpu_hours_month: float = Field(default=0.0, ge=0)
    entrant_sigma: float = Field(default=0.0, ge=0, le=3)
    entrant_months: int = Field(default=24, ge=1, le=120)
    burn_sigma: float = Field(default=0.0, ge=0, le=3)
    assumption: bool = True


class Demand(_Model):
    awards: list[AwardEntry] = Field(default_factory=list)
    flows: Flows | None = None
    include_pending: bool = True
    award_usage_share: float = Field(default=1.0, ge=0, le=2)
    """The share of its GPU-hours an award actually uses (1.0: all of it)."""
    organisations: Organisations
    workload: WorkloadSource = Field(default_factory=WorkloadSource)


class PolicyChoice(_Model):
    """The scheduling policy the centre runs (the scheduling core's choices)."""

    order: Literal["fifo", "sjf", "multifactor"] = "fifo"
    backfill: Literal["none", "easy"] = "easy"
    placement: Literal["pool", "node"] = "node"
    estimates: Literal["limit", "exact"] = "limit"


class Targets(_Model):
    """What a month must keep; ``band`` is the seed percentile the check reads."""

    max_median_wait_hours: PositiveFloat = 24.0
    max_utilisation: Share = 0.95
    band: Literal["p10", "p50", "p90"] = "p50"
    city_pflops: float | None = Field(default=None, gt=0)
    """A public target to compare the plan with (e.g. 15,000 PFLOPS), drawn on the chart."""
    city_by: dt.date | None = None


class Evaluation(_Model):
    """How each month is simulated.

    ``model = "full"`` simulates the whole month; ``"coarse"`` simulates ``sample_days`` of it
    and bundles jobs under ``aggregate_below_gpu_hours`` into chains of about
    ``bundle_gpu_hours``, on at most ``max_sim_gpus`` GPUs at the same load (its error
    against full simulation is measured in ``benchmarks/bench_capacity.py``).
    """

    seeds: int = Field(default=20, ge=1, le=1000)
    model: Literal["coarse", "full"] = "coarse"
    sample_days: int = Field(default=7, ge=1, le=31)
    warmup_days: float = Field(default=1.0, ge=0, le=14)
    aggregate_below_gpu_hours: float = Field(default=4.0, ge=0)
    bundle_gpu_hours: PositiveFloat = 16.0
    max_sim_gpus: int = Field(default=0, ge=0)
    """Coarse model: simulate a pool of at most this many GPUs at the same load (0: no cap)."""
    saturated_ratio: float = Field(default=0.0, ge=0)
    """A month where every seed's demand is at least this × supply is *saturated*: its service
    bands come from its first ``saturated_seeds`` seeds when each of them breaks the utilisation
    target (0: every month gets every seed). Such months are broken whatever the other seeds
    do; simulating them is most of a plan's cost (a growing queue), and fewer seeds there only
    widen the sampling error of bands that say "full"."""
    saturated_seeds: int = Field(default=5, ge=1, le=1000)
    idle_ratio: float = Field(default=0.0, ge=0, le=1)
    """The mirror image: a month where every seed's demand is at most this × supply is *idle*:
    its service bands come from its first ``idle_seeds`` seeds when each of them keeps every
    target (0: every month gets every seed). Measured on the seed scenario, loads up to 0.8 ×
    supply stay far inside the targets in every seed (benchmarks/README.md); a month that
    comes close in any of its first seeds gets every seed."""
    idle_seeds: int = Field(default=5, ge=1, le=1000)


class Recommendation(_Model):
    """Where and how the search may add capacity."""

    enabled: bool = True
    site: str = Field(min_length=1)
    earliest: dt.date | None = None
    """No step before this date (a site still being built); earlier breaks stay reported."""
    accelerator: str = Field(min_length=1)
    granularity_nodes: int = Field(default=16, ge=1)
    max_gpus: int = Field(default=200_000, ge=1)
    cover_months: int = Field(default=12, ge=1, le=120)
    search_seeds: int = Field(default=5, ge=1, le=1000)
    max_steps: int = Field(default=6, ge=1, le=50)


class Labelled(_Model):
    """One labelled assumption: what is assumed and why."""

    what: str = Field(min_length=1)
    why: str = ""


class Scenario(_Model):
    """A complete capacity scenario."""

    name: str = Field(min_length=1)
    description: str = ""
    start: dt.date
    """The first month of the horizon (the 1st of a month)."""
    months: int = Field(ge=1, le=240)
    reference_accelerator: str = Field(min_length=1)
    """Capacity is pooled across sites in GPUs of this type (by PFLOPS)."""
    accelerators: list[Accelerator] = Field(min_length=1)
    sites: list[SiteEntry] = Field(min_length=1)
    demand: Demand
    policy: PolicyChoice = Field(default_factory=PolicyChoice)
    targets: Targets = Field(default_factory=Targets)
    evaluation: Evaluation = Field(default_factory=Evaluation)
    recommend: Recommendation | None = None
    assumptions: list[Labelled] = Field(default_factory=list)

    def accelerator(self, name: str) -> Accelerator:
        for acc in self.accelerators:
            if acc.name == name:
                return acc
        raise ValidationFailed(f"unknown accelerator {name!r}", field="accelerator")


# -- loading -------------------------------------------------------------------------------


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate a ``.toml``, ``.yaml`` or ``.yml`` scenario file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise ScenarioError(path.name, [("", "a scenario is a .toml, .yaml or .yml file")])
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(path.name, [("", f"cannot read the file: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        problem = f"not UTF-8 text (byte 0x{raw[exc.start]:02x}, line {line}); save it as UTF-8"
        raise ScenarioError(path.name, [("", problem)]) from None
    return parse_scenario(text, "toml" if suffix == ".toml" else "yaml", source=path.name)


def parse_scenario(text: str, fmt: Literal["toml", "yaml"], source: str = "scenario") -> Scenario:
    """Validate a scenario given as text; raises :class:`ScenarioError` listing every problem."""
    data: Any
    if fmt == "toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(source, [("", f"not valid TOML: {exc}")]) from None
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ScenarioError(source, [("", f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise ScenarioError(source, [("", "the top level must be a table of settings")])
    hostile = _hostile_values(data)
    if hostile:
        raise ScenarioError(
            source, [(_path(loc), _with_line(msg, text, fmt, loc)) for loc, msg in hostile]
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not _is_union_tag(p))
            problems.append((_path(loc), _with_line(err["msg"], text, fmt, loc)))
        raise ScenarioError(source, problems) from None
    cross = _cross_check(scenario)
    if cross:
        raise ScenarioError(
            source, [(_path(loc), _with_line(msg, text, fmt, loc)) for loc, msg in cross]
        )
    return scenario


def check_scenario(data: dict[str, Any], source: str) -> Scenario:
    """Validate a scenario built in code (no text to point into): the model's checks and the
    cross checks, every problem by its field path."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [
            (_path(tuple(p for p in e["loc"] if not _is_union_tag(p))), str(e["msg"]))
            for e in exc.errors()
        ]
        raise ScenarioError(source, problems) from None
    cross = _cross_check(scenario)
    if cross:
        raise ScenarioError(source, [(_path(loc), msg) for loc, msg in cross])
    return scenario


MAX_NUMBER = 10**15
"""Far beyond any capacity, count, price or horizon a scenario holds: a larger number (or NaN,
an infinity, a NUL character) is a typo or hostile input, refused by name before the
simulation turns it into an overflow or a plan of nonsense."""


def _hostile_values(
    value: Any, loc: tuple[str | int, ...] = ()
) -> list[tuple[tuple[str | int, ...], str]]:
    """Every value in the decoded file that no field may hold, with where it is."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _hostile_values(v, (*loc, str(k)))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _hostile_values(v, (*loc, i))]
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return [(loc, f"not a finite number: {value}")]
        if abs(value) > MAX_NUMBER:
            return [(loc, f"out of range (at most {MAX_NUMBER:.0e} in size): {value:.3g}")]
    if isinstance(value, str) and "\x00" in value:
        return [(loc, "contains a NUL character")]
    return []


def _is_union_tag(part: object) -> bool:
    # pydantic puts the union member's type name in the loc ("float", "int"): not a field.
    return isinstance(part, str) and part in ("float", "int", "str", "bool")


def _cross_check(s: Scenario) -> list[tuple[tuple[str | int, ...], str]]:
    """Checks across fields: names must refer to something declared."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    known = [a.name for a in s.accelerators]
    if len(set(known)) != len(known):
        out.append((("accelerators",), "accelerator names must be unique"))
    if s.start.day != 1:
        out.append((("start",), "the horizon starts on the 1st of a month"))
    if s.reference_accelerator not in known:
        out.append((("reference_accelerator",), f"unknown accelerator {s.reference_accelerator!r}"))
    names = [site.name for site in s.sites]
    if len(set(names)) != len(names):
        out.append((("sites",), "site names must be unique"))
    for i, site in enumerate(s.sites):
        for j, step in enumerate(site.steps):
            if step.accelerator not in known:
                out.append(
                    (("sites", i, "steps", j, "accelerator"), _unknown(step.accelerator, known))
                )
    for i, award in enumerate(s.demand.awards):
        if award.accelerator not in known:
            out.append((("demand", "awards", i, "accelerator"), _unknown(award.accelerator, known)))
    flows = s.demand.flows
    if flows is not None:
        paid = flows.list_price_hkd_per_gpu_hour * flows.subsidy_rate
        committed = sum(a.gpu_hours for a in s.demand.awards if a.status == "active") * paid
        if committed > flows.envelope_hkd:
            out.append(
                (
                    ("demand", "flows", "envelope_hkd"),
                    f"the envelope (HK${flows.envelope_hkd:,.0f}) is smaller than what the "
                    f"active awards commit (HK${committed:,.0f})",
                )
            )
    for i, award in enumerate(s.demand.awards):
        if award.used_gpu_hours > award.gpu_hours:
            out.append(
                (("demand", "awards", i, "used_gpu_hours"), "more than the award's gpu_hours")
            )
    if s.recommend is not None:
        if s.recommend.site not in names:
            out.append((("recommend", "site"), f"unknown site {s.recommend.site!r}"))
        if s.recommend.accelerator not in known:
            out.append((("recommend", "accelerator"), _unknown(s.recommend.accelerator, known)))
    return out


def _unknown(name: str, known: list[str]) -> str:
    return f"unknown accelerator {name!r} (declared: {', '.join(known)})"


def _path(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _with_line(msg: str, text: str, fmt: str, loc: tuple[str | int, ...]) -> str:
    line = _toml_line(text, loc) if fmt == "toml" else _yaml_line(text, loc)
    return f"{msg} (line {line})" if line is not None else msg


def _yaml_line(text: str, loc: tuple[str | int, ...]) -> int | None:
    """The line of the node at ``loc`` (or of its nearest existing parent)."""
    try:
        node: Any = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line: int | None = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        nxt = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if key.value == part:
                    nxt = value if not isinstance(value, yaml.ScalarNode) else key
                    line = key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            nxt = node.value[part]
            line = nxt.start_mark.line + 1
        if nxt is None:
            break
        node = nxt
    return line


def _toml_line(text: str, loc: tuple[str | int, ...]) -> int | None:
    """The line of the key at ``loc`` in a TOML text (tables and arrays of tables).

    A small reader of TOML's layout, not a parser: it tracks ``[table]`` and ``[[array]]``
    headers and ``key = value`` lines; values written inline (``{…}``) are found by their
    enclosing key. Falls back to the nearest enclosing table's header.
    """
    counters: dict[tuple[str | int, ...], int] = {}
    current: tuple[str | int, ...] = ()
    best: tuple[int, int] | None = None  # (matched length, line)

    def resolve(parts: list[str], array: bool) -> tuple[str | int, ...]:
        path: tuple[str | int, ...] = ()
        for k, name in enumerate(parts):
            path = (*path, name)
            last = k == len(parts) - 1
            if last and array:
                counters[path] = counters.get(path, -1) + 1
                path = (*path, counters[path])
            elif path in counters:
                path = (*path, counters[path])
        return path

    for number, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("[["):
            current = resolve(_keys(s[2 : s.find("]]")]), array=True)
            path = current
        elif s.startswith("["):
            current = resolve(_keys(s[1 : s.find("]")]), array=False)
            path = current
        elif "=" in s:
            path = (*current, *_keys(s.split("=", 1)[0]))
        else:
            continue
        if path == loc[: len(path)] and (best is None or len(path) > best[0]):
            best = (len(path), number)
            if len(path) == len(loc):
                return number
    return best[1] if best is not None else None


def _keys(dotted: str) -> list[str]:
    return [p.strip().strip('"').strip("'") for p in dotted.split(".")]
