"""Thin Reflex states orchestrating the services."""
