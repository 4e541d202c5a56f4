"""The HTTP layer: thin FastAPI routes over kg.graph."""
