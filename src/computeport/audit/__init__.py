"""The audit trail: one service every workflow calls to record who moved what, when and why."""
