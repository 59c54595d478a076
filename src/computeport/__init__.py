"""computeport: public money from an application to a GPU-second and back to an invoice.

The package is layered (see DESIGN.md and the import-linter contracts in pyproject.toml):
``kit`` → ``scheduling``/``simulator`` (framework-free core) → domains and ``models`` →
``backends`` → the edges ``api``, ``web``, ``cli`` and ``worker``.
"""

__version__ = "0.1.0"
