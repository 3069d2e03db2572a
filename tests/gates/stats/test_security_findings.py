"""Tests of the security gate's masking: no finding ever shows the value it found."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.gates.stats.security import mask_value
from tests.gates.stats.security_inputs import AWS_ACCESS


def test_mask_value_format():
    assert mask_value(AWS_ACCESS) == AWS_ACCESS[:4] + "…(20 chars)"
    assert mask_value("abcdef") == "ab…(6 chars)"  # short values reveal a third at most
    assert mask_value("") == "…(0 chars)"


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_mask_never_contains_the_value(value):
    assert value not in mask_value(value)


@pytest.mark.parametrize("value", ["ab…(8 ch", "…(10 chars", "(9 chars)", "<redacted>", "*"])
def test_mask_adversarial_values(value):
    assert value not in mask_value(value)
