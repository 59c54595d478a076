"""The discrete-event simulator: engine, workload readers and generators, metrics."""
