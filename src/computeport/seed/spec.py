"""The Cyberport scenario's data (``cyberport.toml``), parsed into validated Pydantic models.

Why a file: the scheme, its rubric, calls and the ~20 projects are data an analyst edits and
reviews, not code; like ``scenarios/cyberport.toml`` for capacity, they live in TOML beside
their loader (:mod:`computeport.seed.cyberport`) and ship inside the package, read with
:mod:`importlib.resources`.

Bad data never half-seeds: every problem is collected and reported at once, each naming the
key the way a reader finds it in the file (``projects[3].status: …``).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Sequence
from decimal import Decimal
from importlib import resources
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from computeport.kit.errors import ValidationFailed
from computeport.models.application import ApplicationStatus
from computeport.models.identity import OrganisationCategory
from computeport.scheme.rubric import CriterionSpec

__all__ = [
    "CallEntry",
    "CriterionEntry",
    "CyberportData",
    "ListPrice",
    "NamedOrganisation",
    "PriceTable",
    "ProjectEntry",
    "SchemeEntry",
    "SeedDataError",
    "TokenPriceEntry",
    "load_cyberport",
    "parse_cyberport",
    "utc_midnight",
]

DATA_FILE = "cyberport.toml"

Fraction = Annotated[Decimal, Field(gt=0, le=1)]


def utc_midnight(day: dt.date) -> dt.datetime:
    """A date of the file as midnight UTC (the seed's timestamps are all whole days)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Decimals(_Model):
    @field_validator("*", mode="before")
    @classmethod
    def _no_binary_floats(cls, value: Any) -> Any:
        # A TOML float (0.1) is binary and may not be the decimal written; text is exact.
        if isinstance(value, float):
            raise ValueError('write decimals as text, e.g. "0.25"')
        return value


class ListPrice(_Model):
    """The list price that sizes awards in GPU-hours (not public: an assumption)."""

    hkd_per_gpu_hour: int = Field(gt=0)
    assumption: bool = True


class SchemeEntry(_Decimals):
    """The scheme as the facts give it (DESIGN.md, cyberport-facts.md)."""

    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    envelope_hkd: int = Field(gt=0)
    launch: dt.date
    years: int = Field(ge=1)
    created: dt.date
    default_rate: Fraction
    max_rate: Fraction
    reports_filed_before: dt.date
    list_price: ListPrice

    @model_validator(mode="after")
    def _rates_ordered(self) -> SchemeEntry:
        if self.max_rate < self.default_rate:
            raise ValueError("max_rate must be at least default_rate")
        return self


class CriterionEntry(_Decimals):
    """One rubric criterion; ``assumption = true`` where it is not published."""

    key: str = Field(min_length=1)
    name: str = Field(min_length=1)
    weight: Fraction
    description: str = ""
    assumption: bool = False

    def spec(self) -> CriterionSpec:
        return CriterionSpec(self.key, self.name, self.weight, self.description, self.assumption)


class CallEntry(_Model):
    """A call for applications; without ``closes`` it is rolling."""

    name: str = Field(min_length=1)
    opens: dt.date
    closes: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> CallEntry:
        if self.closes is not None and self.closes <= self.opens:
            raise ValueError("closes must be after opens")
        return self


class NamedOrganisation(_Model):
    """An organisation a project names (the other applicants are generated names)."""

    name: str = Field(min_length=1)
    category: OrganisationCategory
    sector: str = Field(min_length=1)
    assumption: bool = True


_DECIDED_WITH_AWARD = ApplicationStatus.APPROVED


class ProjectEntry(_Decimals):
    """One seeded application and, where approved, its award (all values assumptions)."""

    title: str = Field(min_length=1)
    category: OrganisationCategory
    organisation: str | None = None
    """A name from ``[[organisations]]``; absent: the next generated one of ``category``."""
    demo_organisation: bool = False
    """The demo applicant of :mod:`computeport.seed.demo` (whose users can sign in)."""
    sector: str = Field(min_length=1)
    status: ApplicationStatus
    created: dt.date
    cap_hkd: int = Field(default=0, ge=0)
    """Approved projects: the HK$ subsidy cap."""
    months: int = Field(default=12, ge=1)
    rate: Fraction | None = None
    rate_reason: str = ""
    tranches: tuple[Annotated[int, Field(gt=0)], ...] = (10_000,)
    """Basis points of the award's GPU-hours released per tranche; they sum to 10000."""
    model_parameters: int | None = Field(default=None, gt=0)
    dataset_tokens: int | None = Field(default=None, gt=0)
    gpus: int = Field(default=256, ge=1)
    reason: str = ""
    reports_filed: bool = True
    """File and accept the reports due before the scheme's ``reports_filed_before``."""
    assumption: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> ProjectEntry:
        if self.organisation is not None and self.demo_organisation:
            raise ValueError("give organisation or demo_organisation, not both")
        approved = self.status is _DECIDED_WITH_AWARD
        if approved and self.cap_hkd == 0:
            raise ValueError("an approved project needs cap_hkd")
        if not approved and self.cap_hkd:
            raise ValueError("only an approved project has cap_hkd")
        if sum(self.tranches) != 10_000:
            raise ValueError("tranches must sum to 10000 basis points")
        if self.rate_reason and self.rate is None:
            raise ValueError("rate_reason explains a rate: give rate too")
        return self

    @property
    def created_at(self) -> dt.datetime:
        return utc_midnight(self.created)


Positive = Annotated[Decimal, Field(gt=0)]


class TokenPriceEntry(_Decimals):
    """HK$ per million input and output tokens of one model."""

    input: Positive
    output: Positive


class PriceTable(_Decimals):
    """The rate card the scenario starts with: every price an assumption (AISC publishes none),
    loaded by ``seed cyberport`` from ``valid_from`` so a new user's first job is billed."""

    valid_from: dt.date
    assumption: bool = True
    gpu_hour: dict[str, Positive] = Field(min_length=1)
    qos_multiplier: dict[str, Positive] = Field(default_factory=dict)
    tokens: dict[str, TokenPriceEntry] = Field(default_factory=dict)
    audio_minute: dict[str, Positive] = Field(default_factory=dict)


class CyberportData(_Model):
    """The whole file."""

    scheme: SchemeEntry
    prices: PriceTable
    criteria: list[CriterionEntry] = Field(min_length=1)
    calls: list[CallEntry] = Field(min_length=1)
    organisations: list[NamedOrganisation] = Field(default_factory=list)
    projects: list[ProjectEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_h800_price(self) -> CyberportData:
        # The list price sizes the awards in GPU-hours; the rate card must bill at the same.
        h800 = self.prices.gpu_hour.get("h800")
        if h800 is not None and h800 != self.scheme.list_price.hkd_per_gpu_hour:
            raise ValueError("prices.gpu_hour.h800 must equal scheme.list_price.hkd_per_gpu_hour")
        return self

    @property
    def criterion_specs(self) -> list[CriterionSpec]:
        return [c.spec() for c in self.criteria]


class SeedDataError(ValidationFailed):
    """Seed data that does not validate; ``problems`` lists ``(key path, message)``."""

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]) -> None:
        lines = [f"{path}: {msg}" if path else msg for path, msg in problems]
        super().__init__(
            f"{source}: invalid seed data\n  " + "\n  ".join(lines),
            field=problems[0][0] if problems else None,
        )
        self.problems = list(problems)


def load_cyberport() -> CyberportData:
    """Read and validate the packaged ``cyberport.toml``."""
    text = resources.files(__package__ or "computeport.seed").joinpath(DATA_FILE).read_text("utf-8")
    return parse_cyberport(text, source=DATA_FILE)


def parse_cyberport(text: str, source: str = DATA_FILE) -> CyberportData:
    """Validate the seed data given as TOML text; raises :class:`SeedDataError` listing every
    problem by its key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SeedDataError(source, [("", f"not valid TOML: {exc}")]) from None
    try:
        data = CyberportData.model_validate(raw)
    except ValidationError as exc:
        raise SeedDataError(
            source, [(_path(tuple(e["loc"])), e["msg"]) for e in exc.errors()]
        ) from None
    cross = _cross_check(data)
    if cross:
        raise SeedDataError(source, cross)
    return data


def _cross_check(data: CyberportData) -> list[tuple[str, str]]:
    """Checks across tables: unique keys, names that refer to something declared, rates the
    scheme allows, a call open for every project."""
    out: list[tuple[str, str]] = []
    for table, keys in (
        ("criteria", [c.key for c in data.criteria]),
        ("calls", [c.name for c in data.calls]),
        ("organisations", [o.name for o in data.organisations]),
        ("projects", [p.title for p in data.projects]),
    ):
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            out.append((table, f"duplicate names: {', '.join(dupes)}"))
    named = {o.name: o for o in data.organisations}
    first_call = min(c.opens for c in data.calls)
    for i, p in enumerate(data.projects):
        where = f"projects[{i}]"
        org = named.get(p.organisation) if p.organisation is not None else None
        if p.organisation is not None and org is None:
            out.append((f"{where}.organisation", f"unknown organisation {p.organisation!r}"))
        if org is not None and org.category is not p.category:
            out.append((f"{where}.category", f"{p.organisation!r} is a {org.category.value}"))
        if p.rate is not None and not data.scheme.default_rate <= p.rate <= data.scheme.max_rate:
            out.append((f"{where}.rate", "outside the scheme's default_rate..max_rate"))
        if p.created < first_call:
            out.append((f"{where}.created", "before the first call opens"))
    return out


def _path(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
