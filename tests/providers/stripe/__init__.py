"""Stripe: its client against the Stripe sandbox, its webhooks, its events and reconciliation."""
