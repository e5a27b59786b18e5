"""The layer's version: what the health route answers and the provider clients' User-Agent carries."""

__version__ = "0.1.0"
