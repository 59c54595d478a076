from tests.backends.sim.support import committed_engine

__all__ = ["committed_engine"]
