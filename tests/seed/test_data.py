"""The seed's data file: it ships with the package, says what it rests on, and bad data is
refused with the key that is wrong."""

from __future__ import annotations

from decimal import Decimal
from importlib import resources

import pytest

from computeport.models.application import ApplicationStatus
from computeport.seed.spec import SeedDataError, load_cyberport, parse_cyberport


def _text() -> str:
    return resources.files("computeport.seed").joinpath("cyberport.toml").read_text("utf-8")


def test_the_packaged_file_holds_the_scenario() -> None:
    data = load_cyberport()
    assert data.scheme.code == "AISS"
    assert data.scheme.envelope_hkd == 3_000_000_000
    assert (data.scheme.default_rate, data.scheme.max_rate) == (Decimal("0.70"), Decimal("0.90"))
    assert data.scheme.list_price.assumption
    assert sum(c.weight for c in data.criteria) == 1
    published = {c.key for c in data.criteria if not c.assumption}
    assert published == {"alignment", "compute_reasonableness"}
    approved = [p for p in data.projects if p.status is ApplicationStatus.APPROVED]
    assert len(data.projects) == 22
    assert len(approved) == 10
    assert sum(p.cap_hkd for p in approved) == 322_000_000  # "over HK$300M" by mid-2025
    assert all(p.assumption for p in data.projects)
    assert all(o.assumption for o in data.organisations)
    assert sum(p.demo_organisation for p in data.projects) == 1


def _broken(old: str, new: str) -> SeedDataError:
    text = _text()
    assert old in text
    with pytest.raises(SeedDataError) as caught:
        parse_cyberport(text.replace(old, new, 1))
    return caught.value


@pytest.mark.parametrize(
    ("old", "new", "key", "says"),
    [
        ('status = "approved"', 'status = "aproved"', "projects[0].status", "approved"),
        ('weight = "0.25"', "weight = 0.25", "criteria[0].weight", "as text"),
        ("gpus = 1024", "gpus = 1024\ncolour = 1", "projects[0].colour", "not permitted"),
        ("cap_hkd = 68_000_000", "cap_hkd = 0", "projects[0]", "needs cap_hkd"),
        ('rate = "0.9"', 'rate = "0.95"', "projects[3].rate", "max_rate"),
        (
            'organisation = "Harbourview',
            'organisation = "Nowhere',
            "projects[0].organisation",
            "unknown organisation",
        ),
        ("tranches = [5000, 5000]", "tranches = [5000, 4000]", "projects[1]", "10000"),
        (
            'title = "Cantonese-English foundation language model"',
            'title = "Government chat assistant on a Hong Kong LLM"',
            "projects",
            "duplicate",
        ),
        ("created = 2024-10-15", "created = 2024-10-01", "projects[0].created", "first call"),
        ('h800 = "30"', 'h800 = "28"', "", "prices.gpu_hour.h800 must equal"),
        ('scavenger = "0.5"', 'scavenger = "0"', "prices.qos_multiplier.scavenger", "greater"),
        ('output = "12.00"', 'output = "-1"', "prices.tokens.qwen2.5-72b-instruct.output", ""),
    ],
)
def test_bad_data_names_the_key(old: str, new: str, key: str, says: str) -> None:
    error = _broken(old, new)
    assert error.problems[0][0] == key, error.problems
    assert says in error.problems[0][1]
    assert f"{key}: " in str(error)


def test_not_toml_is_refused() -> None:
    with pytest.raises(SeedDataError, match="not valid TOML"):
        parse_cyberport("[scheme")
