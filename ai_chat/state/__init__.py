"""Thin Reflex states orchestrating the services.

Imports no state module: `from ai_chat.state import payloads` must not load the states. A
state class is registered in the state tree when its module is imported; the pages import
every state they use (pages/chat.py imports `LiveState`, whose module brings the chat, the
sidebar and the settings), before the app builds a tab's state.
"""
