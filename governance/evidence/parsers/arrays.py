"""Arrow arrays to numpy and back, and reading cell values as numbers or strings."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# What a human or pandas writes for "no value" (pandas' default na_values).
NULL_TOKENS = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)


# pyarrow imports pandas (~50 MB) the first time pa.array(), pa.scalar() or to_numpy() is
# called; these few conversions go through raw buffers instead so a parsing worker stays
# small.
def string_array(values: Any) -> pa.Array:
    encoded = [str(value).encode("utf-8") for value in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(item) for item in encoded], out=offsets[1:])
    return pa.StringArray.from_buffers(len(encoded), pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded)))


def _validity(array: pa.Array) -> np.ndarray | None:
    if array.null_count == 0:
        return None
    bits = np.frombuffer(array.buffers()[0], dtype=np.uint8)
    return np.unpackbits(bits, bitorder="little")[array.offset : array.offset + len(array)].astype(bool)


def float_numpy(array: pa.Array) -> np.ndarray:
    """float64 Arrow array -> numpy float64, nulls as NaN."""
    if len(array) == 0:
        return np.empty(0, dtype=np.float64)
    values = np.frombuffer(array.buffers()[1], dtype=np.float64, count=len(array), offset=array.offset * 8)
    valid = _validity(array)
    if valid is not None:
        values = values.copy()
        values[~valid] = np.nan
    return values


def int_numpy(array: pa.Array) -> np.ndarray:
    """int32/int64 Arrow array without nulls -> numpy int64."""
    dtype = np.int32 if array.type == pa.int32() else np.int64
    width = np.dtype(dtype).itemsize
    values = np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * width)
    return values.astype(np.int64)


def bool_numpy(array: pa.Array) -> np.ndarray:
    """Boolean Arrow array -> numpy bool (nulls as False)."""
    bits = np.frombuffer(array.buffers()[1], dtype=np.uint8)
    values = np.unpackbits(bits, bitorder="little")[array.offset : array.offset + len(array)].astype(bool)
    valid = _validity(array)
    return values if valid is None else values & valid


def float_arrow(values: np.ndarray) -> pa.Array:
    values = np.ascontiguousarray(values, dtype=np.float64)
    return pa.Array.from_buffers(pa.float64(), len(values), [None, pa.py_buffer(values)])


_NULL_TOKEN_SET = string_array(NULL_TOKENS)
_TRUE_TOKENS = string_array(["True", "true", "TRUE"])
_FALSE_TOKENS = string_array(["False", "false", "FALSE"])
_ONE = string_array(["1"])[0]
_ZERO = string_array(["0"])[0]
EMPTY_STRING = string_array([""])[0]


class Unparsable(Exception):
    def __init__(self, index: int):
        super().__init__(index)
        self.index = index


def infer_type(raw: pa.Array, *, strict: bool) -> str:
    if strict:
        return "numeric"
    if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type):
        return "numeric"
    if pa.types.is_boolean(raw.type) or pa.types.is_decimal(raw.type):
        return "numeric"
    if not (pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type)):
        return "categorical"  # dictionary, dates, timestamps...: shown as strings
    cleaned = _clean_strings(raw)
    if cleaned.null_count == len(cleaned):
        return "categorical"
    try:
        pc.cast(cleaned, pa.float64())
    except pa.ArrowInvalid:
        return "categorical"
    return "numeric"


def _clean_strings(raw: pa.Array) -> pa.Array:
    """Trimmed strings with the usual "no value" spellings turned into nulls."""
    if pa.types.is_large_string(raw.type):
        raw = raw.cast(pa.string())
    trimmed = pc.utf8_trim_whitespace(raw)
    missing = pc.or_kleene(pc.is_null(trimmed), pc.is_in(trimmed, value_set=_NULL_TOKEN_SET))
    if not pc.any(missing).as_py():
        return trimmed
    return pc.if_else(missing, pa.nulls(len(trimmed), pa.string()), trimmed)


def to_float(raw: pa.Array, *, booleans: bool = False) -> np.ndarray:
    """Numbers as float64 (NaN for missing); `booleans` also reads true/false as 1/0."""
    if pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type):
        try:  # fast path: clean numbers, no blanks or "NA" spellings
            return float_numpy(pc.cast(raw, pa.float64()))
        except pa.ArrowInvalid:
            pass
        cleaned = _clean_strings(raw)
        if booleans:  # pandas writes bool columns as True/False
            cleaned = pc.if_else(pc.is_in(cleaned, value_set=_TRUE_TOKENS), _ONE, cleaned)
            cleaned = pc.if_else(pc.is_in(cleaned, value_set=_FALSE_TOKENS), _ZERO, cleaned)
        try:
            as_float = pc.cast(cleaned, pa.float64())
        except pa.ArrowInvalid:
            raise Unparsable(_first_unparsable(cleaned)) from None
    elif pa.types.is_dictionary(raw.type):
        return to_float(raw.dictionary_decode(), booleans=booleans)
    else:
        try:
            as_float = pc.cast(raw, pa.float64(), safe=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise Unparsable(0) from None
    return float_numpy(as_float)


def _first_unparsable(cleaned: pa.Array) -> int:
    """Index of the first value Arrow cannot cast to float (bisection, linear work)."""
    low, high = (
        0,
        len(cleaned),
    )  # cleaned[:low] casts; cleaned[low:high] holds a failure
    while high - low > 1:
        middle = (low + high) // 2
        try:
            pc.cast(cleaned.slice(low, middle - low), pa.float64())
            low = middle
        except pa.ArrowInvalid:
            high = middle
    return low


def to_strings(raw: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(raw.type):
        raw = raw.dictionary_decode()
    if not (pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type)):
        raw = pc.cast(raw, pa.string())
    return _clean_strings(raw)
