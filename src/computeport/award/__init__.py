"""Committee awards: decisions, the envelope commitment, amendments, termination and expiry."""
