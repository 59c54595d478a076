"""The scheme's envelope: total, committed, consumed, remaining, per applicant category."""
