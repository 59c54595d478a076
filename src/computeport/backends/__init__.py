"""Cluster back ends behind one ``ClusterBackend`` protocol: ``sim`` (default) and ``slurm``."""
