"""Runs one reply: LLM stream → in-flight buffer → coalesced snapshots → one DB write.

No Reflex here either: the state layer drives it and pushes what it yields.
"""
