"""Usage records from the back ends: validation, quarantine and idempotent batched ingest."""
