"""Hotelbeds: its client against the Hotelbeds sandbox, its signing, its booking workflow."""
