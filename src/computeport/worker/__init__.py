"""Background loops: the virtual cluster's clock, ingest, notifications."""
