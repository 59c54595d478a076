"""Hostile scenario files: numbers beyond any capacity, NaN and infinities, NUL characters,
text that is not UTF-8.  Each is a ``ScenarioError`` naming the field and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from computeport.capacity.errors import ScenarioError
from computeport.capacity.scenario import load_scenario, parse_scenario

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "cyberport.toml"


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("gpus_per_node = 8", "gpus_per_node = " + "9" * 25, "gpus_per_node", "out of range"),
        ("pflops = 1300", "pflops = 1e308", "pflops", "out of range"),
        ("pflops = 1300", "pflops = nan", "pflops", "not a finite number: nan"),
        ("pflops = 1300", "pflops = inf", "pflops", "not a finite number: inf"),
        ('name = "cyberport"', 'name = "cyber\\u0000port"', "name", "contains a NUL"),
    ],
)
def test_hostile_value_is_named_with_its_line(old: str, new: str, field: str, message: str) -> None:
    text = SCENARIO.read_text(encoding="utf-8")
    assert old in text
    changed = text.replace(old, new, 1)
    line = changed[: changed.index(new)].count("\n") + 1
    with pytest.raises(ScenarioError) as info:
        parse_scenario(changed, "toml", source="s.toml")
    problem = info.value.message
    assert field in problem
    assert message in problem
    assert f"(line {line})" in problem


def test_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(b'name = "x"\nmonths = 12\n# caf\xe9\n')
    with pytest.raises(ScenarioError, match=r"not UTF-8 text \(byte 0xe9, line 3\)"):
        load_scenario(path)


def test_the_seed_scenario_still_loads() -> None:
    assert load_scenario(SCENARIO).name == "cyberport"
