"""The ``computeport`` command line (Typer + Rich)."""
