"""The price list: versions per accelerator type, QOS multipliers, the assumed seed price."""
