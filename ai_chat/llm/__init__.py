"""Talks to Claude through the anthropic SDK and yields plain events. Knows nothing of Reflex."""
