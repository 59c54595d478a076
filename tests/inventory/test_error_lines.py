"""Property: whatever the file's layout, an error points at the line of the key that is wrong.

Random inventories (clusters, partitions, key order, comments, blank lines, quoted or bare
table names) get one mistake at a random place; the reported line must be that key's line and
the reported key its dotted path.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from computeport.inventory.declaration import parse_inventory
from computeport.inventory.errors import InventoryInvalid

NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
PAD = st.sampled_from(["", "\n", "# a comment\n", "\n# between tables\n\n"])


@dataclass
class Layout:
    lines: list[str]
    marked: int | None = None
    """Index in ``lines`` of the one wrong key."""

    def add(self, line: str, *, wrong: bool = False) -> None:
        if wrong:
            self.marked = len(self.lines)
        self.lines.extend(line.split("\n"))


def header(*parts: str, quoted: bool) -> str:
    return "[" + ".".join(f'"{p}"' if quoted else p for p in parts) + "]"


@st.composite
def broken_inventory(draw: st.DrawFn) -> tuple[str, int, str]:
    clusters = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    parts = {c: draw(st.lists(NAMES, min_size=1, max_size=3, unique=True)) for c in clusters}
    slots = [(c, p) for c in clusters for p in parts[c]]
    bad_cluster, bad_part = draw(st.sampled_from(slots))
    mistake = draw(st.sampled_from(["nodes", "gpus_per_node", "accelerator", "site"]))
    layout = Layout([])
    layout.add('[accelerators.h800]\nvendor = "NVIDIA"\nmodel = "H800"\nmemory_gb = 80')
    layout.add("peak_pflops = 0.99")
    layout.add(draw(PAD) + '[sites.cyberport]\nname = "Cyberport"')
    expected = ""
    for cluster in clusters:
        quoted = draw(st.booleans())
        layout.add(draw(PAD) + header("clusters", cluster, quoted=quoted))
        wrong_site = cluster == bad_cluster and mistake == "site"
        site_line = 'site = "nowhere"' if wrong_site else 'site = "cyberport"'
        keys = [(site_line, wrong_site), ('backend = "sim"', False)]
        for line, wrong in draw(st.permutations(keys)):
            layout.add(line, wrong=wrong)
        if wrong_site:
            expected = f"clusters.{cluster}.site"
        for part in parts[cluster]:
            layout.add(draw(PAD) + header("clusters", cluster, "partitions", part, quoted=quoted))
            here = (cluster, part) == (bad_cluster, bad_part) and mistake != "site"
            values = {"accelerator": '"h800"', "gpus_per_node": "8", "nodes": "2"}
            if here:
                values[mistake] = {"nodes": "0", "gpus_per_node": "-1"}.get(mistake, '"h9"')
                expected = f"clusters.{cluster}.partitions.{part}.{mistake}"
            for key in draw(st.permutations(list(values))):
                layout.add(f"{key} = {values[key]}", wrong=here and key == mistake)
    assert layout.marked is not None
    text = "\n".join(layout.lines)
    # ``add`` splits on newlines, so the marked index is the 0-based line of the wrong key.
    return text, layout.marked + 1, expected


@settings(max_examples=150, deadline=None)
@given(broken_inventory())
def test_the_reported_line_is_the_wrong_keys_line(case: tuple[str, int, str]) -> None:
    text, line, key = case
    with pytest.raises(InventoryInvalid) as caught:
        parse_inventory(text, "random.toml")
    [problem] = caught.value.problems
    assert (problem.key, problem.line) == (key, line), text
