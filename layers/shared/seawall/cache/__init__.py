"""A cache shared by the whole fleet, on the state backend: one provider request for many containers' searches.

Build one with ``SharedState.cache(name, ttl_seconds)``. It is an
optimisation only: a store failure reads as a miss and a failed write is
dropped (both logged and counted), so a caller always falls back to asking
the provider.
"""

from seawall.cache._cache import CacheStore, SharedCache

__all__ = ["CacheStore", "SharedCache"]
