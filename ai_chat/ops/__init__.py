"""Operations: the per-turn JSON log, Prometheus metrics, the health and metrics endpoints,
and the Granian hook that makes crashed workers respawn (README "Operations")."""
