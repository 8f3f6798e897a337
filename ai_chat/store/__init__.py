"""Persistence: SQLModel tables and owner-scoped queries."""
