"""The malformed-evidence corpus as a whole, and arbitrary bytes: whatever a file holds,
the parsers accept it or refuse it with an EvidenceError, leaving nothing behind.

The cases themselves are in test_malformed_tables.py, test_malformed_containers.py and
test_malformed_documents.py; their shared parts in malformed.py.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.evidence.parsers import EvidenceError, parse_evidence
from tests.evidence.test_malformed_containers import CONTAINER_CASES
from tests.evidence.test_malformed_documents import DOCUMENT_CASES
from tests.evidence.test_malformed_tables import TABLE_CASES

CORPUS = TABLE_CASES + CONTAINER_CASES + DOCUMENT_CASES


def test_the_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 35
    assert len({case.id for case in CORPUS}) == len(CORPUS)


CSV_ALPHABET = "y_true,y_score;\t\n\r\"' 0123456789.-eEnaNAinf\x00\ufeffé"


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    kind=st.sampled_from(["predictions", "latency", "feature_current", "licenses", "metrics", "training_config"]),
    content=st.one_of(
        st.binary(max_size=400),
        st.text(alphabet=CSV_ALPHABET, max_size=400).map(lambda text: text.encode("utf-8")),
        st.text(alphabet=CSV_ALPHABET, max_size=400).map(lambda text: ("y_true,y_score\n" + text).encode()),
    ),
    name=st.sampled_from(["e.csv", "e.json", "e.yaml", "e.parquet", "e.zip"]),
)
def test_arbitrary_bytes_are_accepted_or_refused_cleanly(tmp_path: Path, kind: str, content: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    columnar_dir = tmp_path / "columnar"

    try:
        result = parse_evidence(kind, str(path), original_name=name, columnar_dir=str(columnar_dir))
    except EvidenceError as error:
        assert str(error)
        assert not columnar_dir.exists() or os.listdir(columnar_dir) == []
    else:
        if result.columnar_path:
            os.remove(result.columnar_path)
