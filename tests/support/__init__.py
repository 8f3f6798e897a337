"""Helpers the tests and the benchmarks share: the served app and simulator as processes
(`servers`), a browserless Reflex tab (`client`), a private Redis database (`redis_db`).

The dependency runs one way: `benchmarks/` imports this package; nothing here imports
`benchmarks/`.
"""
