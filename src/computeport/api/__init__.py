"""The REST API: a FastAPI app whose endpoints are thin calls into domain services."""
