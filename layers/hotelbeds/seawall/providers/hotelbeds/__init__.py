"""Hotelbeds (APItude): the typed client (``client``), its models, request signature, errors and bookings.

Import from the submodules: this package stays light.
"""

SERVICE = "hotelbeds"
