"""Pages: layouts of components."""
