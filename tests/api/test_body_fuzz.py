"""Issue 14: property-based fuzzing of every API endpoint's JSON body (Hypothesis).

Any JSON-like value (text with NUL and lone surrogates, huge and non-finite numbers, nested
lists and objects) in any field, or as the whole body: the answer is below 500, a 4xx is the
JSON error format, and a refused request stores nothing. The hand-written corpus is
tests/api/test_hostile_corpus.py; this explores around it.
"""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.test_hostile_corpus import api_endpoints, check_api, counts
from tests.api.test_hostile_corpus import world as world  # noqa: F401 - the fixture
from tests.factories import api_client

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    database=None,  # leave no .hypothesis/ directory in the tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4), max_leaves=12
)


@FUZZ
@given(data=st.data())
def test_any_json_in_any_field_of_any_endpoint(world, data):  # noqa: F811 - the fixture
    client = api_client(world["admin"])
    client.raise_request_exception = False
    method, url, valid = data.draw(st.sampled_from(api_endpoints(world)), label="endpoint")
    if data.draw(st.booleans(), label="whole body"):
        body = data.draw(values, label="body")
        field = None
    else:
        field = data.draw(st.sampled_from(sorted(valid)), label="field")
        body = {**valid, field: data.draw(values, label="value")}
    text = json.dumps(body)  # NaN/Infinity as bare words, surrogates as \ud800 escapes
    before = counts()
    problems: list[str] = []
    response = getattr(client, method)(url, data=text, content_type="application/json")
    check_api(response, f"{method} {url} {text[:80]}", None, before, problems)
    assert not problems, "\n".join(problems)
