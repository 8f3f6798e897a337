"""How the capacity ramp shares its users between independent servers."""

from benchmarks.scenarios.capacity import interleave


def test_users_alternate_between_servers_in_send_order() -> None:
    groups = [["a1", "a2", "a3"], ["b1", "b2"], ["c1", "c2"]]
    assert interleave(groups) == ["a1", "b1", "c1", "a2", "b2", "c2", "a3"]


def test_one_server_keeps_its_order_and_nothing_is_dropped() -> None:
    assert interleave([[3, 1, 2]]) == [3, 1, 2]
    assert interleave([[], [1]]) == [1]
    assert interleave([]) == []
