"""Canonical JSON and its sha256: how training configs (and other JSON facts) are hashed.

Sorted keys, no white space, UTF-8: the same object always gives the same bytes, so the
hash a pipeline computes (`json.dumps(obj, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`) matches ours.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def canonical_json_sha256(obj: Any) -> str:
    """Lower-case hex sha256 of `canonical_json(obj)`."""
    return hashlib.sha256(canonical_json(obj)).hexdigest()
