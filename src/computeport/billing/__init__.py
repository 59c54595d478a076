"""Rating usage, posting it to the ledger, payments, credit control, burn-down and forecasts."""
