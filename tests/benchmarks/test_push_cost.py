"""`benchmarks/push_cost.py`: its variants and medians (the servers are the suite's own)."""

from __future__ import annotations

import argparse

import pytest

from benchmarks.push_cost import main, medians, parse_variant


def test_a_variant_is_a_name_and_its_server_env():
    assert parse_variant("wide:AI_CHAT_PUSH_INTERVAL_MAX_MS=300,A=b=c") == (
        "wide",
        {"AI_CHAT_PUSH_INTERVAL_MAX_MS": "300", "A": "b=c"},
    )
    assert parse_variant("same:") == ("same", {})


@pytest.mark.parametrize("text", ["noenv", ":A=1", "default:A=1", "x:A", "x:=1"])
def test_a_malformed_variant_is_refused_with_what_was_expected(text):
    with pytest.raises(argparse.ArgumentTypeError, match="expected"):
        parse_variant(text)


def test_two_variants_of_one_name_are_refused_before_any_server_starts(capsys):
    with pytest.raises(SystemExit):
        main(["--variant", "a:X=1", "--variant", "a:X=2"])
    assert "variant names must differ" in capsys.readouterr().err


def test_medians_per_configuration():
    assert medians({"default": [0.8, 0.7, 0.9], "b": [0.5, 0.7]}) == {"default": 0.8, "b": 0.6}
