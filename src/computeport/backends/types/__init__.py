"""The plain values that cross the back-end boundary, one module per concept.

``desired`` (what the cluster should hold), ``changes`` (the typed diff), ``jobs``, ``inventory``
and ``accounting``.  Import them from :mod:`computeport.backends` outside the back ends.
"""
