"""Hotelbeds (APItude): the secret's shape and the request signature (the client arrives with its actions)."""

from seawall.providers.hotelbeds.secrets import HotelbedsSecret
from seawall.providers.hotelbeds.signing import signature, signed_headers

__all__ = ["HotelbedsSecret", "signature", "signed_headers"]
