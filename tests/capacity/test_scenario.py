"""Scenario files: the seed scenario loads; bad files name the field and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from computeport.capacity.errors import ScenarioError
from computeport.capacity.scenario import load_scenario, parse_scenario

REPO = Path(__file__).resolve().parents[2]

GOOD_TOML = """\
name = "t"
start = 2025-01-01
months = 12
reference_accelerator = "H800"

[[accelerators]]
name = "H800"
pflops_per_gpu = 0.99

[[sites]]
name = "A"

  [[sites.steps]]
  date = 2024-12-09
  accelerator = "H800"
  pflops = 1300

[[sites]]
name = "B"

  [[sites.steps]]
  date = {date}
  accelerator = "{acc}"
  gpus = 64

[demand.organisations]
count = 10
growth_per_year = 5
active_share = 0.5
gpu_hours_per_active_org_month = 1000
"""


def toml(date: str = "2026-01-01", acc: str = "H800") -> str:
    return GOOD_TOML.replace("{date}", date).replace("{acc}", acc)


class TestSeedScenario:
    def test_cyberport_loads_with_facts_and_assumptions_labelled(self) -> None:
        s = load_scenario(REPO / "scenarios" / "cyberport.toml")
        assert s.start.isoformat() == "2025-01-01"
        assert s.months == 60
        cyberport = next(site for site in s.sites if site.name == "Cyberport")
        opening = cyberport.steps[0]
        assert (opening.pflops, opening.assumption) == (1300, False)
        sandy = next(site for site in s.sites if site.name == "Sandy Ridge")
        assert sandy.assumption
        assert all(step.assumption for step in sandy.steps)
        assert s.demand.organisations.growth_per_year == 120
        assert s.assumptions


class TestToml:
    def test_good_file_parses(self) -> None:
        s = parse_scenario(toml(), "toml")
        assert [site.name for site in s.sites] == ["A", "B"]

    def test_bad_date_names_field_and_line(self) -> None:
        with pytest.raises(ScenarioError) as err:
            parse_scenario(toml(date='"2026-13-01"'), "toml")
        assert err.value.problems[0][0] == "sites[1].steps[0].date"
        line = toml().splitlines().index("  date = 2026-01-01") + 1
        assert f"(line {line})" in err.value.problems[0][1]
        assert "sites[1].steps[0].date:" in err.value.message

    def test_unknown_accelerator_names_field_and_declared_ones(self) -> None:
        with pytest.raises(ScenarioError) as err:
            parse_scenario(toml(acc="B200"), "toml")
        path, msg = err.value.problems[0]
        assert path == "sites[1].steps[0].accelerator"
        assert "'B200'" in msg
        assert "H800" in msg

    def test_missing_field_points_at_its_table(self) -> None:
        text = toml().replace("active_share = 0.5\n", "")
        with pytest.raises(ScenarioError) as err:
            parse_scenario(text, "toml")
        path, msg = err.value.problems[0]
        assert path == "demand.organisations.active_share"
        line = text.splitlines().index("[demand.organisations]") + 1
        assert f"(line {line})" in msg

    def test_every_problem_is_reported_at_once(self) -> None:
        text = toml().replace("months = 12", "months = 0").replace("count = 10", "count = -1")
        with pytest.raises(ScenarioError) as err:
            parse_scenario(text, "toml")
        paths = {p for p, _ in err.value.problems}
        assert {"months", "demand.organisations.count"} <= paths

    def test_both_levels_on_a_step_is_refused(self) -> None:
        text = toml().replace("  gpus = 64", "  gpus = 64\n  pflops = 10")
        with pytest.raises(ScenarioError) as err:
            parse_scenario(text, "toml")
        assert err.value.problems[0][0] == "sites[1].steps[0]"
        assert "exactly one of pflops or gpus" in err.value.problems[0][1]

    def test_horizon_must_start_on_the_first(self) -> None:
        with pytest.raises(ScenarioError) as err:
            parse_scenario(toml().replace("start = 2025-01-01", "start = 2025-01-15"), "toml")
        assert err.value.problems[0][0] == "start"
        assert "(line 2)" in err.value.problems[0][1]

    def test_unknown_key_is_refused(self) -> None:
        with pytest.raises(ScenarioError) as err:
            parse_scenario(toml().replace("months = 12", "months = 12\nhorizon = 3"), "toml")
        assert err.value.problems[0][0] == "horizon"

    def test_syntax_error_keeps_tomls_position(self) -> None:
        with pytest.raises(ScenarioError) as err:
            parse_scenario("name = \n", "toml")
        assert "line 1" in err.value.message


class TestYaml:
    def test_bad_value_names_field_and_line(self) -> None:
        text = """\
name: t
start: 2025-01-01
months: 12
reference_accelerator: H800
accelerators:
  - name: H800
    pflops_per_gpu: 0.99
sites:
  - name: A
    steps:
      - date: 2024-12-09
        accelerator: H800
        pflops: -5
demand:
  organisations: {count: 1, growth_per_year: 0, active_share: 1, gpu_hours_per_active_org_month: 1}
"""
        with pytest.raises(ScenarioError) as err:
            parse_scenario(text, "yaml")
        path, msg = err.value.problems[0]
        assert path == "sites[0].steps[0].pflops"
        assert "(line 13)" in msg

    def test_file_suffix_picks_the_format(self, tmp_path: Path) -> None:
        bad = tmp_path / "s.json"
        bad.write_text("{}")
        with pytest.raises(ScenarioError, match=r"\.toml, \.yaml or \.yml"):
            load_scenario(bad)
