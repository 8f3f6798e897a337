"""One module per measured property; each takes a running server and returns plain data."""
