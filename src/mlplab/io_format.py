"""The safetensors container of an mlplab model file, read and checked before use.

:func:`read_file` validates the 8-byte header length (recognising pickle, joblib,
npz, npy and compressed files by their first bytes) and parses the JSON header
strictly (no duplicate keys, no NaN/Infinity constants); :func:`check_tensors`
validates each tensor entry (dtype, shape, data offsets) against the data section;
:func:`deserialize` hands the bytes to safetensors' own parser. Every problem is a
one-line :class:`ModelFormatError` naming the file (:func:`fail`). ``mlplab.io``
reads the mlplab document inside the header and rebuilds the object.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import sys
from typing import Any

import numpy as np
import safetensors
import safetensors.numpy

__all__ = [
    "ALLOWED_DTYPES",
    "ALLOWED_NAMES",
    "ALLOWED_TEXT",
    "MAX_HEADER_BYTES",
    "IntegrityError",
    "ModelFormatError",
    "check_tensors",
    "deserialize",
    "fail",
    "parse_json",
    "read_file",
]

MAX_HEADER_BYTES = 100 * 1024 * 1024
"""Largest safetensors JSON header :func:`mlplab.io.load` accepts (100 MB)."""

_MAX_NDIM = 64

# safetensors dtype code -> numpy dtype, for the dtypes mlplab stores.
ALLOWED_DTYPES: dict[str, np.dtype[Any]] = {
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "BOOL": np.dtype("?"),
}
ALLOWED_NAMES = frozenset(dt.name for dt in ALLOWED_DTYPES.values())
ALLOWED_TEXT = ", ".join(dt.name for dt in ALLOWED_DTYPES.values())
# Readable names for other safetensors dtype codes, used in error messages only.
_OTHER_DTYPE_NAMES = {
    "F16": "float16",
    "BF16": "bfloat16",
    "F8_E4M3": "float8_e4m3",
    "F8_E5M2": "float8_e5m2",
    "U8": "uint8",
    "I8": "int8",
    "U16": "uint16",
    "I16": "int16",
    "U32": "uint32",
    "U64": "uint64",
    "C64": "complex64",
}

_NOT_A_MODEL = "not an mlplab model; mlplab never loads pickle, save with mlplab.save"
_PICKLE_GLOBAL = re.compile(rb"c[A-Za-z_][\w.]*\n[A-Za-z_][\w.]*\n")
_COMPRESSED_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x04\x22\x4d\x18", "lz4"),
    (b"x\x01", "zlib"),
    (b"x\x5e", "zlib"),
    (b"x\x9c", "zlib"),
    (b"x\xda", "zlib"),
)


# The errors are documented, and shown in tracebacks, as mlplab.io's (it re-exports them).
class ModelFormatError(ValueError):
    """A file is not a valid mlplab model (corrupt, foreign or unsupported)."""

    __module__ = "mlplab.io"


class IntegrityError(ModelFormatError):
    """A model file's content does not match the SHA-256 digests it records."""

    __module__ = "mlplab.io"


def fail(
    path: str, what: str, error: type[ModelFormatError] = ModelFormatError
) -> ModelFormatError:
    """Build a one-line error naming the file and the problem."""
    text = " ".join(what.split())
    return error(f"cannot load mlplab model {path!r}: {text}")


def _sniff_foreign(prefix: bytes) -> str | None:
    """Name the foreign format of a file from its first bytes, if recognised."""
    if prefix.startswith(b"\x93NUMPY"):
        return "this is an npy file"
    if prefix.startswith(b"PK"):
        return "this is an npz (zip) file"
    if prefix[:1] in (b"\x80", b"(", b"}", b"]") or _PICKLE_GLOBAL.match(prefix):
        return "this is a pickle file (or a joblib dump)"
    for magic, kind in _COMPRESSED_MAGIC:
        if prefix.startswith(magic):
            return f"this is a {kind}-compressed file (e.g. a compressed joblib dump)"
    return None


def _header_length(path: str, prefix: bytes, size: int) -> int:
    """Validate the 8-byte header length against the file size, cheaply."""
    if size == 0:
        raise fail(path, "the file is empty")
    declared = int.from_bytes(prefix[:8], "little") if size >= 8 else None
    plausible = declared is not None and declared <= size - 8 and prefix[8:9] == b"{"
    if not plausible:
        foreign = _sniff_foreign(prefix)
        if foreign is not None:
            raise fail(path, f"{foreign}, {_NOT_A_MODEL}")
    if declared is None:
        raise fail(
            path,
            f"the file is truncated: {size} bytes, fewer than the 8-byte safetensors header length",
        )
    if declared > MAX_HEADER_BYTES:
        raise fail(
            path,
            f"the declared header length {declared} exceeds the "
            f"{MAX_HEADER_BYTES}-byte limit; the file is corrupt or not a "
            "safetensors file",
        )
    if declared > size - 8:
        raise fail(
            path,
            f"the declared header length {declared} is larger than the "
            f"{size - 8} bytes that follow it; the file is truncated or not a "
            "safetensors file",
        )
    if declared < 2 or prefix[8:9] != b"{":
        raise fail(path, "not a safetensors file: no JSON header after the length")
    return declared


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def parse_json(path: str, text: bytes | str, what: str) -> Any:
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise fail(path, f"invalid JSON in the {what}: {exc}") from None


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_tensors(
    path: str, header: dict[str, Any], data_len: int
) -> dict[str, tuple[np.dtype[Any], tuple[int, ...]]]:
    """Validate the tensor entries of the header; return their dtypes/shapes."""
    tensors: dict[str, tuple[np.dtype[Any], tuple[int, ...]]] = {}
    spans: list[tuple[int, int, str]] = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict):
            raise fail(path, f"header entry for array {name!r} is not an object")
        code = entry.get("dtype")
        if code not in ALLOWED_DTYPES:
            readable = _OTHER_DTYPE_NAMES.get(code, code) if isinstance(code, str) else code
            raise fail(
                path,
                f"array {name!r} has unsupported dtype {readable!r}; mlplab "
                f"files store only {ALLOWED_TEXT}",
            )
        dtype = ALLOWED_DTYPES[code]
        shape = entry.get("shape")
        if not (
            isinstance(shape, list)
            and len(shape) <= _MAX_NDIM
            and all(_is_index(dim) for dim in shape)
        ):
            raise fail(path, f"array {name!r} has an invalid shape {shape!r}")
        offsets = entry.get("data_offsets")
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(_is_index(o) for o in offsets)
            and offsets[0] <= offsets[1]
        ):
            raise fail(path, f"array {name!r} has invalid data offsets {offsets!r}")
        begin, end = offsets
        nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
        if nbytes > data_len:
            raise fail(
                path,
                f"array {name!r} ({dtype.name}, shape {tuple(shape)}) declares "
                f"{nbytes} bytes, beyond the whole {data_len}-byte data section; "
                "the file is truncated or corrupt",
            )
        if end > data_len:
            raise fail(
                path,
                f"array {name!r} has data offsets {begin}..{end}, beyond the end of "
                f"the {data_len}-byte data section; the file is truncated or corrupt",
            )
        if end - begin != nbytes:
            raise fail(
                path,
                f"array {name!r} ({dtype.name}, shape {tuple(shape)}) needs "
                f"{nbytes} bytes but its offsets span {end - begin}",
            )
        tensors[name] = (dtype, tuple(shape))
        spans.append((begin, end, name))
    _check_layout(path, spans, data_len)
    return tensors


def _check_layout(path: str, spans: list[tuple[int, int, str]], data_len: int) -> None:
    """The arrays tile the data section exactly, as safetensors requires: in offset
    order each starts where the previous one ends, and the last ends at the end."""
    position, previous = 0, None
    for begin, end, name in sorted(spans):
        if begin < position:
            raise fail(
                path,
                f"array {name!r} (bytes {begin}..{end}) overlaps array {previous!r}, "
                f"which ends at byte {position}",
            )
        if begin > position:
            raise fail(
                path,
                f"bytes {position}..{begin} before array {name!r} belong to no array; "
                "the arrays must cover the data section exactly",
            )
        position, previous = end, name
    if position != data_len:
        raise fail(
            path,
            f"the last {data_len - position} byte(s) of the data section belong to no "
            "array; the arrays must cover the data section exactly",
        )


def read_file(path: str) -> tuple[dict[str, Any], bytes]:
    """Read and pre-validate a model file; return ``(header, whole file)``."""
    info = os.stat(path)  # FileNotFoundError propagates unchanged
    if stat.S_ISDIR(info.st_mode):
        raise fail(path, "it is a directory, not an mlplab model file")
    if not stat.S_ISREG(info.st_mode):
        raise fail(path, "it is not a regular file")
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        prefix = fh.read(16)
        length = _header_length(path, prefix, size)
        fh.seek(8)
        raw_header = fh.read(length)
        if len(raw_header) != length:
            raise fail(path, "the file shrank while it was being read")
        header = parse_json(path, raw_header, "safetensors header")
        if not isinstance(header, dict):
            raise fail(path, "the safetensors header is not a JSON object")
        fh.seek(0)
        blob = fh.read(size + 1)
    if len(blob) != size:
        raise fail(path, "the file changed size while it was being read")
    return header, blob


def deserialize(path: str, blob: bytes) -> dict[str, np.ndarray]:
    try:
        arrays = safetensors.numpy.load(blob)
    except Exception as exc:  # noqa: BLE001  (SafetensorError or any parser error)
        kind = type(exc).__name__
        raise fail(path, f"safetensors rejected the file ({kind}: {exc})") from None
    if sys.byteorder == "big":  # safetensors.numpy reads raw LE bytes natively
        arrays = {k: a.view(a.dtype.newbyteorder("<")) for k, a in arrays.items()}
    return arrays
