"""The inventory file: the shipped Cyberport file validates; every kind of mistake names its line
and key."""

from __future__ import annotations

from decimal import Decimal

import pytest

from computeport.inventory.declaration import ClusterStatus, parse_inventory
from computeport.inventory.errors import InventoryInvalid
from tests.inventory.inventory_files import BETA, SMALL, cyberport_text, line_number


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(InventoryInvalid) as caught:
        parse_inventory(text, "centre.toml")
    return [(p.line, p.key, p.message) for p in caught.value.problems]


def test_the_cyberport_file_declares_3000_pf_of_h800_and_sandy_ridge_planned() -> None:
    decl = parse_inventory(cyberport_text())
    assert decl.gpus("cyberport-h800") == 3040
    assert decl.pflops("cyberport-h800") == Decimal("3009.60")
    assert decl.sites["sandy-ridge"].status == "planned"
    assert decl.clusters["sandy-ridge-a"].status is ClusterStatus.PLANNED
    h800 = decl.accelerators["h800"]
    assert (h800.vendor, h800.memory_gb, h800.precision) == ("NVIDIA", 80, "fp16-dense")
    # The one secret of the file is named by its environment variable, never written.
    connection = decl.clusters["sandy-ridge-a"].connection()
    assert connection["restd_token_env"] == "COMPUTEPORT_SANDY_RIDGE_SLURMRESTD_TOKEN"


def test_unknown_site_names_the_line_and_the_declared_sites() -> None:
    text = SMALL.replace('site = "cyberport"', 'site = "cyberprt"')
    [(line, key, message)] = problems(text)
    assert line == line_number(text, 'site = "cyberprt"')
    assert key == "clusters.alpha.site"
    assert "unknown site 'cyberprt'" in message
    assert "cyberport" in message


def test_duplicate_cluster_name_is_refused_with_its_line() -> None:
    text = SMALL + BETA + BETA.replace("beta.slurm", "beta.slurm2")
    [(line, _key, message)] = problems(text)
    assert "twice" in message
    assert line == line_number(text, "[clusters.beta]", occurrence=2)


def test_a_partition_without_gpus_names_the_key() -> None:
    text = SMALL.replace("gpus_per_node = 8", "gpus_per_node = 0")
    [(line, key, message)] = problems(text)
    assert key == "clusters.alpha.partitions.gpu.gpus_per_node"
    assert line == line_number(text, "gpus_per_node = 0")
    assert "greater than or equal to 1" in message


def test_a_cluster_without_partitions_is_refused() -> None:
    text = SMALL.split("[clusters.alpha.partitions.gpu]")[0]
    [(line, key, _message)] = problems(text)
    assert key == "clusters.alpha.partitions"
    assert line == line_number(text, "[clusters.alpha]")


def test_unknown_accelerator_and_every_other_problem_are_reported_together() -> None:
    text = SMALL.replace('accelerator = "h800"', 'accelerator = "h900"').replace(
        "nodes = 4", "nodes = 4\nracks = 2"
    ) + BETA.replace('site = "cyberport"', 'site = "moon"')
    found = {key: (line, message) for line, key, message in problems(text)}
    assert set(found) == {
        "clusters.alpha.partitions.gpu.accelerator",
        "clusters.alpha.partitions.gpu.racks",
        "clusters.beta.site",
    }
    assert found["clusters.alpha.partitions.gpu.accelerator"][0] == line_number(text, "h900")
    assert found["clusters.alpha.partitions.gpu.racks"] == (
        line_number(text, "racks = 2"),
        "Extra inputs are not permitted",
    )


def test_a_secret_in_the_file_is_refused_and_the_env_var_way_is_said() -> None:
    text = SMALL + BETA.replace('slurm_conf = "', 'restd_token = "eyJhbGciOi"\nslurm_conf = "')
    [(line, key, message)] = problems(text)
    assert key == "clusters.beta.slurm"
    assert line == line_number(text, "[clusters.beta.slurm]")
    assert "restd_token_env" in message
    assert "eyJhbGciOi" not in message


def test_an_env_var_name_must_be_one() -> None:
    text = SMALL + BETA.replace('slurm_conf = "', 'restd_token_env = "not a name"\nslurm_conf = "')
    [(_line, key, _message)] = problems(text)
    assert key == "clusters.beta.slurm.restd_token_env"


def test_a_slurm_cluster_needs_its_connection_and_a_sim_one_has_none() -> None:
    no_table = SMALL + BETA.replace("[clusters.beta.slurm]", "").replace(
        'slurm_conf = "/etc/slurm-beta/slurm.conf"', ""
    )
    [(_line, key, message)] = problems(no_table)
    assert key == "clusters.beta"
    assert "needs its [clusters.<name>.slurm] table" in message


def test_names_must_be_slurm_safe() -> None:
    text = SMALL.replace("[clusters.alpha]", '[clusters."Alpha One"]').replace(
        "[clusters.alpha.partitions.gpu]", '[clusters."Alpha One".partitions.gpu]'
    )
    [(line, key, message)] = problems(text)
    assert key == "clusters.Alpha One"
    assert line == line_number(text, '[clusters."Alpha One"]')
    assert "lowercase" in message


def test_an_active_cluster_at_a_planned_site_is_a_contradiction() -> None:
    text = SMALL.replace('name = "Cyberport"', 'name = "Cyberport"\nstatus = "planned"')
    [(_line, key, message)] = problems(text)
    assert key == "clusters.alpha.status"
    assert "planned site" in message


def test_not_toml_at_all_names_the_line() -> None:
    text = SMALL + "\n[clusters.alpha.partitions.gpu\n"
    [(line, _key, message)] = problems(text)
    assert message.startswith("not valid TOML")
    assert line == line_number(text, "[clusters.alpha.partitions.gpu", occurrence=2)


def test_a_sim_cluster_keeps_its_speed_and_decimals_stay_exact() -> None:
    text = SMALL.replace("peak_pflops = 0.99", "peak_pflops = 0.9895") + (
        "\n[clusters.alpha.sim]\nspeed = 86.4\n"
    )
    decl = parse_inventory(text)
    assert decl.clusters["alpha"].connection() == {"speed": 86.4}
    assert decl.accelerators["h800"].peak_pflops == Decimal("0.9895")
    assert decl.pflops("alpha") == Decimal("31.664")  # 32 × 0.9895, no binary rounding
