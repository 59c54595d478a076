"""The centre's inventory: sites → clusters (each with its back end) → partitions → accelerators.

Declared in a TOML file (:mod:`~computeport.inventory.declaration`), checked and loaded by
``computeport clusters`` (:mod:`~computeport.inventory.loader`), read by the operator page and
``GET /api/v1/sites`` / ``/api/v1/clusters``.  :mod:`~computeport.inventory.connections` turns a
cluster row into the plain value :mod:`computeport.backends.registry` builds a back end from.
"""
