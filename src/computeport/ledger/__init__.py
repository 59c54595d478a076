"""The double-entry ledger: accounts, balanced append-only journals, balances."""
