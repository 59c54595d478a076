"""The subsidy scheme: envelope, period, rates, eligible categories, rubric, and calls."""
