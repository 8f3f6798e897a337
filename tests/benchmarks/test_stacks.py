"""`benchmarks/stacks.py`: shares of a profile's collapsed stacks."""

from __future__ import annotations

from benchmarks.stacks import main, parse, shares

PROFILE = """\
run (app.py:10);handle (app.py:20);scan (pool.py:5) 30
run (app.py:10);handle (app.py:21);send (net.py:7) 50
run (app.py:10);walk (tree.py:3);walk (tree.py:4);walk (tree.py:5) 20
_connection_worker_thread (aiosqlite/core.py:9);get (queue.py:1) 400
 7
"""


def test_frames_lose_their_line_numbers_and_bad_lines_are_skipped():
    stacks = list(parse(PROFILE.splitlines()))
    assert stacks[0] == (["run (app.py)", "handle (app.py)", "scan (pool.py)"], 30)
    assert len(stacks) == 4  # the frameless " 7" line is no stack


def test_shares_leave_out_waiting_threads_and_count_a_recursive_frame_once():
    total, through = shares(parse(PROFILE.splitlines()))
    assert total == 100
    assert through["run (app.py)"] == 100
    assert through["handle (app.py)"] == 80  # two lines of one function
    assert through["walk (tree.py)"] == 20
    assert "get (queue.py)" not in through


def test_shares_of_named_frames(tmp_path, capsys):
    profile = tmp_path / "stacks.txt"
    profile.write_text(PROFILE)
    assert main([str(profile), "--frames", "scan", "send (net"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["100 samples", " 30.0 %  scan", " 50.0 %  send (net"]
