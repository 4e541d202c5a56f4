"""kg: the ML lifecycle knowledge graph."""

__version__ = "0.1.0"
