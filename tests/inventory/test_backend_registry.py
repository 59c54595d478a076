"""Back ends built per cluster from the inventory: the right kind, with the cluster's settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from computeport.backends import DesiredState
from computeport.backends.registry import BackendRegistry, build_backend, default_connection
from computeport.backends.sim import SimBackend
from computeport.backends.slurm import SlurmBackend
from computeport.backends.types.connection import ClusterConnection
from computeport.db.engine import make_engine, make_session_factory
from computeport.db.schema import create_schema
from computeport.inventory.connections import connection_of
from computeport.inventory.declaration import parse_inventory
from computeport.inventory.loader import load_inventory
from computeport.inventory.repository import all_clusters
from computeport.kit.clock import ManualClock
from computeport.kit.errors import ValidationFailed
from computeport.settings import Settings
from tests.inventory.inventory_files import BETA, SMALL, cyberport_text

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def nothing_desired(_now: datetime) -> DesiredState:
    return DesiredState(())


def loaded(session: Session, text: str) -> dict[str, ClusterConnection]:
    decl = parse_inventory(text)
    load_inventory(session, decl, actor_id=None, at=T0, source="t.toml")
    return {c.name: connection_of(c) for c in all_clusters(session)}


def test_a_slurm_cluster_gets_its_own_cluster_name_conf_and_operators(session: Session) -> None:
    by_name = loaded(session, cyberport_text())
    sessions = make_session_factory(make_engine("sqlite://"))
    for name, conf in (
        ("cyberport-h800", "/etc/slurm/slurm.conf"),
        ("sandy-ridge-a", "/etc/slurm-sandy-ridge/slurm.conf"),
    ):
        backend, _clock = build_backend(
            by_name[name],
            sessions,
            desired=nothing_desired,
        )
        assert isinstance(backend, SlurmBackend)
        assert backend.cluster == name
        assert backend.config.slurm_conf == Path(conf)
        assert backend.config.default_partition == "gpu"
        assert backend.config.operator_users == frozenset({"root", "slurm"})


def test_a_sim_cluster_is_built_with_its_declared_partitions(
    session: Session, tmp_path: Path
) -> None:
    connections = loaded(session, SMALL)
    engine = make_engine(f"sqlite:///{tmp_path / 'sim.sqlite3'}")
    create_schema(engine)
    backend, _clock = build_backend(
        connections["alpha"],
        make_session_factory(engine),
        ManualClock(T0),
        desired=nothing_desired,
        history=timedelta(hours=1),
        traces_dir=tmp_path,  # no trace here: the built-in workload model
    )
    assert isinstance(backend, SimBackend)
    assert backend.cluster == "alpha"
    [gpu] = backend.partitions()
    assert (gpu.name, gpu.gpus, len(gpu.nodes), gpu.default) == ("gpu", 32, 4, True)
    assert backend.epoch == T0 - timedelta(hours=1)  # the clock given is where it starts
    engine.dispose()


def test_the_registry_builds_each_cluster_once_and_names_the_known_ones(
    session: Session,
) -> None:
    connections = loaded(session, SMALL + BETA)
    built: list[str] = []

    def build_slurm_only(connection, sessions, clock, *, desired):  # type: ignore[no-untyped-def]
        built.append(connection.name)
        return build_backend(connection, sessions, clock, desired=desired)

    registry = BackendRegistry(
        [connections["beta"]],
        make_session_factory(make_engine("sqlite://")),
        desired=nothing_desired,
        build=build_slurm_only,
    )
    assert registry.names == ["beta"]
    first, _ = registry.open("beta")
    again, _ = registry.open("beta")
    assert first is again
    assert built == ["beta"]
    with pytest.raises(ValidationFailed, match=r"no cluster named 'alpha' \(known: beta\)"):
        registry.open("alpha")


def test_todays_settings_are_the_default_single_cluster() -> None:
    sim = default_connection(Settings(sim_speed=60.0))
    assert (sim.name, sim.backend, sim.settings["speed"]) == ("aisc", "sim", 60.0)
    slurm = default_connection(
        Settings(backend="slurm", slurm_cluster="hpc1", slurm_conf=Path("/etc/s.conf"))
    )
    assert (slurm.name, slurm.backend, slurm.settings["slurm_conf"]) == (
        "hpc1",
        "slurm",
        "/etc/s.conf",
    )
