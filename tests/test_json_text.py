"""generate.json_text writes the JSON documents with orjson: the bytes must be json.dumps's."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.generate import json_text

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(DOCUMENTS)
def test_json_text_is_json_dumps_with_two_space_indent_and_sorted_keys(document):
    assert json_text(document) == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_what_orjson_spells_otherwise_goes_through_json():
    for document in ({"x": 1e16}, {"x": float("nan")}, {"x": float("-inf")}, {"x": 2**70}, {"x": 5e-324},
                     {"x": [1.5, -0.0, 100000.0, 2**63, "é\u2028"]}):
        assert json_text(document) == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
