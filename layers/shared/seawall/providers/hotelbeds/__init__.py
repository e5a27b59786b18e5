"""Hotelbeds (APItude): the secret's shape (the client arrives with its actions)."""

from seawall.providers.hotelbeds.secrets import HotelbedsSecret

__all__ = ["HotelbedsSecret"]
