"""The OpenAI-compatible inference gateway: keys, routes, upstream pool, limits and the meter."""
