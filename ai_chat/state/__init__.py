"""Thin Reflex states orchestrating the services.

Every state class is imported here so the whole state tree exists before the first tab's
state is built (a substate defined later would be missing from it).
"""

from ai_chat.state import chat, live, settings, sidebar  # noqa: F401
