"""Tests for mlplab.io: the safe, atomic, deterministic model format."""

from __future__ import annotations

import _pickle
import gzip
import hashlib
import importlib.util
import json
import os
import pickle
import stat
import struct
import textwrap
import time
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mlplab import io as mio
from mlplab.io import IntegrityError, ModelFormatError

# --------------------------------------------------------------------------
# a tiny saveable class, independent of the engine
# --------------------------------------------------------------------------


@mio.register_saveable
class IoToy:
    """Holds a config dict and named arrays; the smallest saveable object."""

    def __init__(self, config: dict[str, Any], arrays: dict[str, np.ndarray]):
        self.config = config
        self.arrays = arrays

    def __mlplab_state__(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return self.config, self.arrays

    @classmethod
    def __mlplab_restore__(cls, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> IoToy:
        if config.get("fail"):
            raise ValueError("config asks the restore to fail")
        return cls(config, arrays)


class Unregistered(IoToy):
    """Implements the protocol but was never registered."""


@mio.register_saveable
class BadState(IoToy):
    """Registered, but its state is a list instead of a (config, arrays) tuple."""

    def __mlplab_state__(self) -> Any:
        return [self.config, self.arrays]


class Evil:
    """Pickles to a call of ``open(sentinel, "w")``: unpickling creates a file."""

    def __init__(self, sentinel: Path):
        self.sentinel = str(sentinel)

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.sentinel, "w"))


def make_toy(seed: int = 0, **config: Any) -> IoToy:
    rng = np.random.default_rng(seed)
    arrays = {
        "weights": rng.standard_normal((8, 4)),
        "bias": rng.standard_normal(4).astype(np.float32),
    }
    base = {"name": "toy", "rate": 0.125, "sizes": [2, 8, 4], "seed": seed}
    return IoToy({**base, **config}, arrays)


def assert_same_toy(a: IoToy, b: IoToy) -> None:
    assert type(b) is IoToy
    assert a.config == b.config
    assert sorted(a.arrays) == sorted(b.arrays)
    for name, x in a.arrays.items():
        y = b.arrays[name]
        assert y.dtype == x.dtype and y.shape == x.shape, name
        assert np.ascontiguousarray(x).tobytes() == y.tobytes(), name


# --------------------------------------------------------------------------
# helpers to inspect and forge files
# --------------------------------------------------------------------------


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def split(blob: bytes) -> tuple[dict[str, Any], bytes]:
    """Return the parsed safetensors header and the data section."""
    n = int.from_bytes(blob[:8], "little")
    return json.loads(blob[8 : 8 + n]), blob[8 + n :]


def assemble(header: dict[str, Any] | bytes, data: bytes) -> bytes:
    """Build a safetensors-shaped file from a header (dict or raw) and data."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + data


def document(blob: bytes) -> dict[str, Any]:
    header, _ = split(blob)
    return json.loads(header["__metadata__"]["mlplab"])


def forge(doc: dict[str, Any], arrays: dict[str, np.ndarray], digests: bool = True) -> bytes:
    """Write a file with the given document and arrays (digests made valid)."""
    if digests:
        for name, entry in doc["arrays"].items():
            if name in arrays:
                arr = np.asarray(arrays[name], order="C")  # (ascontiguousarray makes 0-d 1-d)
                entry.update(dtype=arr.dtype.name, shape=list(arr.shape), sha256=sha(arr.tobytes()))
        doc["config_sha256"] = sha(canonical(doc["config"]))
    return safetensors.numpy.save(arrays, metadata={"mlplab": json.dumps(doc)})


def load_error(
    path: Path, match: str | None = None, error: type[Exception] = ModelFormatError
) -> Exception:
    """Assert that loading ``path`` raises ``error`` with a one-line message."""
    with pytest.raises(error, match=match) as info:
        mio.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return info.value


@pytest.fixture(autouse=True)
def forbid_unpickling(monkeypatch: pytest.MonkeyPatch):
    """Fail any test in which pickle.load/loads/Unpickler is invoked."""
    calls: list[str] = []

    def spy(name: str):
        def refuse(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            raise AssertionError(f"pickle.{name} was invoked")

        return refuse

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, spy(name))
    yield
    assert calls == []


@pytest.fixture
def toy() -> IoToy:
    return make_toy()


@pytest.fixture
def saved(tmp_path: Path, toy: IoToy) -> tuple[Path, bytes]:
    path = tmp_path / "toy.mlp"
    mio.save(toy, path)
    return path, path.read_bytes()


@pytest.fixture
def deserialize_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record every hand-over of bytes to safetensors' parser."""
    calls: list[int] = []
    real = safetensors.numpy.load

    def spy(data: bytes) -> dict[str, np.ndarray]:
        calls.append(len(data))
        return real(data)

    monkeypatch.setattr(safetensors.numpy, "load", spy)
    return calls


# --------------------------------------------------------------------------
# round trip, format, determinism
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_is_bit_identical(tmp_path: Path, dtype: type) -> None:
    rng = np.random.default_rng(1)
    arrays = {
        "W": rng.standard_normal((5, 3)).astype(dtype),
        # extremes and signed zero must survive bit for bit
        "b": np.array([0.0, -0.0, np.finfo(dtype).tiny, np.finfo(dtype).max], dtype),
    }
    obj = IoToy({"dtype": np.dtype(dtype).name}, arrays)
    mio.save(obj, tmp_path / "m.mlp")
    assert_same_toy(obj, mio.load(tmp_path / "m.mlp"))


def test_round_trip_all_dtypes_and_shapes(tmp_path: Path) -> None:
    arrays = {
        "i64": np.array([[-(2**62), 3]], dtype=np.int64),
        "i32": np.arange(6, dtype=np.int32).reshape(3, 2),
        "mask": np.array([True, False, True]),
        "scalar": np.array(2.5),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "big_endian": np.arange(4, dtype=">f8"),
        "strided": np.arange(12.0).reshape(3, 4).T,
    }
    obj = IoToy({"nested": {"a": [1, 2.5, None, "x"]}, "unicode": "λ→ü"}, arrays)
    mio.save(obj, str(tmp_path / "m.mlp"))
    back = mio.load(str(tmp_path / "m.mlp"))
    assert back.config == obj.config
    for name, x in arrays.items():
        y = back.arrays[name]
        assert y.shape == x.shape and y.dtype.name == x.dtype.name, name
        assert np.array_equal(x, y), name
    assert back.arrays["big_endian"].dtype.isnative


def test_loaded_arrays_are_writable_and_contiguous(saved: tuple[Path, bytes]) -> None:
    back = mio.load(saved[0])
    for arr in back.arrays.values():
        assert arr.flags.writeable and arr.flags.c_contiguous
        arr[...] = 0  # must not raise


def test_file_is_safetensors_with_mlplab_document(saved: tuple[Path, bytes], toy: IoToy) -> None:
    _, blob = saved
    arrays = safetensors.numpy.load(blob)  # readable by plain safetensors
    assert sorted(arrays) == ["bias", "weights"]
    header, _ = split(blob)
    assert list(header["__metadata__"]) == ["mlplab"]
    raw = header["__metadata__"]["mlplab"]
    doc = json.loads(raw)
    assert raw == canonical(doc)  # sorted keys, compact
    assert doc["format"] == "mlplab"
    assert doc["format_version"] == 1
    assert doc["class"] == "IoToy"
    assert doc["config"] == toy.config
    assert doc["config_sha256"] == sha(canonical(toy.config))
    try:
        from mlplab._version import __version__ as expected_version
    except ImportError:
        expected_version = None
    assert doc["mlplab_version"] == expected_version
    for name, arr in toy.arrays.items():
        entry = doc["arrays"][name]
        little = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
        assert entry == {
            "dtype": arr.dtype.name,
            "shape": list(arr.shape),
            "sha256": sha(little.tobytes()),
        }


def test_same_object_saved_twice_is_byte_identical(tmp_path: Path, toy: IoToy) -> None:
    mio.save(toy, tmp_path / "a.mlp")
    mio.save(toy, tmp_path / "b.mlp")
    assert sha((tmp_path / "a.mlp").read_bytes()) == sha((tmp_path / "b.mlp").read_bytes())


def test_serialization_ignores_insertion_order(tmp_path: Path, toy: IoToy) -> None:
    shuffled = IoToy(
        dict(reversed(list(toy.config.items()))),
        dict(reversed(list(toy.arrays.items()))),
    )
    mio.save(toy, tmp_path / "a.mlp")
    mio.save(shuffled, tmp_path / "b.mlp")
    assert (tmp_path / "a.mlp").read_bytes() == (tmp_path / "b.mlp").read_bytes()


# --------------------------------------------------------------------------
# save errors and the registry
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("obj", "type_name"), [({"a": 1}, "dict"), (np.zeros(3), "numpy.ndarray")])
def test_save_without_protocol_is_type_error(tmp_path: Path, obj: object, type_name: str) -> None:
    with pytest.raises(TypeError, match=type_name):
        mio.save(obj, tmp_path / "m.mlp")
    assert os.listdir(tmp_path) == []


def test_saving_a_pipeline_says_what_to_use_for_the_whole_pipeline(tmp_path: Path) -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import mlplab

    pipeline = make_pipeline(StandardScaler(), mlplab.MLPRegressor())
    with pytest.raises(TypeError, match=r"Pipeline.*stores mlplab models.*pipeline\[-1\].*skops"):
        mio.save(pipeline, tmp_path / "p.mlp")
    assert os.listdir(tmp_path) == []


def test_save_unregistered_class_is_type_error(tmp_path: Path, toy: IoToy) -> None:
    with pytest.raises(TypeError, match="Unregistered.*register_saveable"):
        mio.save(Unregistered(toy.config, toy.arrays), tmp_path / "m.mlp")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("arrays", "config", "error", "match"),
    [
        ({"w": np.array([1.0, np.nan])}, {}, ValueError, "'w'.*NaN"),
        ({"w": np.array([np.inf], np.float32)}, {}, ValueError, "'w'.*inf"),
        ({"w": np.zeros(2, np.float16)}, {}, TypeError, "'w'.*float16"),
        ({"w": np.array(["a"])}, {}, TypeError, "'w'"),
        ({"": np.zeros(2)}, {}, ValueError, "array name"),
        ({"w": np.zeros(2)}, {"s": {1, 2}}, TypeError, "JSON"),
        ({"w": np.zeros(2)}, {"x": float("nan")}, TypeError, "JSON"),
    ],
)
def test_save_rejects_bad_state(
    tmp_path: Path,
    arrays: dict[str, np.ndarray],
    config: dict[str, Any],
    error: type[Exception],
    match: str,
) -> None:
    with pytest.raises(error, match=match):
        mio.save(IoToy(config, arrays), tmp_path / "m.mlp")
    assert os.listdir(tmp_path) == []


def test_save_rejects_malformed_state_tuple(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="tuple"):
        mio.save(BadState({}, {}), tmp_path / "m.mlp")


def test_register_saveable_is_a_decorator_and_guards_names() -> None:
    assert mio.register_saveable(IoToy) is IoToy  # idempotent

    class IoToy2(IoToy):
        pass

    IoToy2.__name__ = "IoToy"  # a different class claiming the same name
    with pytest.raises(ValueError, match="IoToy"):
        mio.register_saveable(IoToy2)

    class NoProtocol:
        pass

    with pytest.raises(TypeError, match="__mlplab_state__"):
        mio.register_saveable(NoProtocol)
    with pytest.raises(TypeError):
        mio.register_saveable(make_toy())  # type: ignore[type-var]


# --------------------------------------------------------------------------
# foreign and malformed files
# --------------------------------------------------------------------------


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        mio.load(tmp_path / "absent.mlp")


def test_directory_is_model_format_error(tmp_path: Path) -> None:
    load_error(tmp_path, "it is a directory")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "m.mlp").write_bytes(b"")
    load_error(tmp_path / "m.mlp", "empty")


def test_evil_pickle_payload_is_live(tmp_path: Path) -> None:
    # Control: the payload used below really creates its sentinel when unpickled,
    # so "no sentinel" in the other tests means "not unpickled".
    sentinel = tmp_path / "sentinel"
    _pickle.loads(pickle.dumps(Evil(sentinel))).close()
    assert sentinel.exists()


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_file_is_refused_without_unpickling(tmp_path: Path, protocol: int) -> None:
    sentinel = tmp_path / "sentinel"
    path = tmp_path / "model.mlp"
    path.write_bytes(pickle.dumps(Evil(sentinel), protocol=protocol))
    err = load_error(path, "pickle")
    assert "never loads pickle" in str(err) and "mlplab.save" in str(err)
    assert not sentinel.exists()


def _joblib_like_files(evil: Evil) -> dict[str, bytes]:
    payload = pickle.dumps({"model": evil, "coef": np.ones(3)})
    return {
        "raw": payload,
        "zlib": zlib.compress(payload),
        "gzip": gzip.compress(payload),
    }


@pytest.mark.parametrize("variant", ["raw", "zlib", "gzip"])
def test_joblib_like_files_are_refused(tmp_path: Path, variant: str) -> None:
    sentinel = tmp_path / "sentinel"
    path = tmp_path / "model.joblib"
    path.write_bytes(_joblib_like_files(Evil(sentinel))[variant])
    err = load_error(path, "not an mlplab model")
    assert "never loads pickle" in str(err)
    assert not sentinel.exists()


@pytest.mark.parametrize("compress", [0, 3, ("gzip", 3), ("bz2", 3), ("xz", 3)])
def test_real_joblib_dumps_are_refused(tmp_path: Path, compress: Any) -> None:
    joblib = pytest.importorskip("joblib")
    sentinel = tmp_path / "sentinel"
    path = tmp_path / "model.joblib"
    joblib.dump({"model": Evil(sentinel), "coef": np.ones(3)}, path, compress=compress)
    load_error(path, "not an mlplab model")
    assert not sentinel.exists()


def test_npz_with_pickled_member_is_refused(tmp_path: Path) -> None:
    sentinel = tmp_path / "sentinel"
    path = tmp_path / "model.npz"
    with open(path, "wb") as fh:
        np.savez(fh, W=np.ones(3), evil=np.array([Evil(sentinel)], dtype=object))
    load_error(path, "npz")
    assert not sentinel.exists()


def test_npy_object_array_is_refused(tmp_path: Path) -> None:
    sentinel = tmp_path / "sentinel"
    path = tmp_path / "model.npy"
    with open(path, "wb") as fh:
        np.save(fh, np.array([Evil(sentinel)], dtype=object))
    load_error(path, "npy")
    assert not sentinel.exists()


def test_plain_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.mlp"
    path.write_bytes(b"this is definitely not a model file\n" * 30)
    load_error(path, "header length")


@pytest.mark.parametrize("size", [1, 7])
def test_shorter_than_length_field(tmp_path: Path, size: int) -> None:
    path = tmp_path / "m.mlp"
    path.write_bytes(b"\x05" * size)
    load_error(path, "truncated")


def test_truncation_at_every_offset_raises_only_model_format_error(
    saved: tuple[Path, bytes], tmp_path: Path
) -> None:
    _, blob = saved
    path = tmp_path / "cut.mlp"
    for cut in range(len(blob)):
        path.write_bytes(blob[:cut])
        with pytest.raises(ModelFormatError):
            mio.load(path)


def test_flipped_data_byte_is_integrity_error(saved: tuple[Path, bytes], tmp_path: Path) -> None:
    _, blob = saved
    header_end = 8 + int.from_bytes(blob[:8], "little")
    offsets = np.random.default_rng(0).choice(
        np.arange(header_end, len(blob)), size=50, replace=False
    )
    path = tmp_path / "flipped.mlp"
    for i, offset in enumerate(offsets):
        corrupt = bytearray(blob)
        corrupt[offset] ^= 1 << (i % 8)
        path.write_bytes(bytes(corrupt))
        err = load_error(path, "SHA-256 mismatch", IntegrityError)
        assert "'weights'" in str(err) or "'bias'" in str(err)


def test_flipped_header_byte_is_model_format_error(
    saved: tuple[Path, bytes], tmp_path: Path
) -> None:
    _, blob = saved
    header_end = 8 + int.from_bytes(blob[:8], "little")
    path = tmp_path / "flipped.mlp"
    for offset in range(header_end):
        corrupt = bytearray(blob)
        corrupt[offset] ^= 0xFF
        path.write_bytes(bytes(corrupt))
        with pytest.raises(ModelFormatError):
            mio.load(path)


@pytest.mark.parametrize(
    ("declared", "size", "match"),
    [
        (10**12, 10_000, "exceeds the 104857600-byte limit"),
        (20_000, 10_000, "larger than the 9992 bytes that follow"),
        # a sparse file bigger than the cap: only the cap can stop this one
        (mio.MAX_HEADER_BYTES + 1, mio.MAX_HEADER_BYTES + 100, "limit"),
    ],
)
def test_huge_declared_header_is_rejected_fast(
    tmp_path: Path, declared: int, size: int, match: str, deserialize_calls: list[int]
) -> None:
    path = tmp_path / "huge.mlp"
    with open(path, "wb") as fh:
        fh.write(declared.to_bytes(8, "little") + b"{")
        fh.truncate(size)
    start = time.perf_counter()
    load_error(path, f"header length {declared} .*{match}")
    assert time.perf_counter() - start < 0.5
    assert deserialize_calls == []  # rejected before safetensors saw the bytes


def test_tensor_larger_than_file_is_rejected_fast(
    saved: tuple[Path, bytes], tmp_path: Path, deserialize_calls: list[int]
) -> None:
    header, data = split(saved[1])
    header["weights"] = {
        "dtype": "F64",
        "shape": [10**6, 10**6],
        "data_offsets": [0, 8 * 10**12],
    }
    path = tmp_path / "huge.mlp"
    path.write_bytes(assemble(header, data))
    start = time.perf_counter()
    load_error(path, "'weights'.*beyond")
    assert time.perf_counter() - start < 0.5
    assert deserialize_calls == []


def test_offsets_inconsistent_with_shape(saved: tuple[Path, bytes], tmp_path: Path) -> None:
    header, data = split(saved[1])
    begin, end = header["bias"]["data_offsets"]
    header["bias"]["shape"] = [3]  # 12 bytes, but the offsets span 16
    path = tmp_path / "m.mlp"
    path.write_bytes(assemble(header, data))
    load_error(path, "'bias'")


def test_overlapping_offsets_are_refused_before_safetensors(
    saved: tuple[Path, bytes], tmp_path: Path, deserialize_calls: list[int]
) -> None:
    # Each entry is self-consistent; only the layout check (contiguous, non-overlapping,
    # as safetensors requires) can object, and mlplab's runs before safetensors parses.
    header, data = split(saved[1])
    header["bias"]["data_offsets"] = [0, 16]
    path = tmp_path / "m.mlp"
    path.write_bytes(assemble(header, data))
    load_error(path, "overlaps array")
    assert deserialize_calls == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"__metadata__": {"mlplab": ',
        b'{"a": NaN}',
        b'{"a": 1, "a": 2}',
        b"{\xff\xfe}",
        b'{"a": 1} trailing',
        b"[1, 2, 3]",
    ],
)
def test_invalid_json_header(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "m.mlp"
    path.write_bytes(assemble(raw, b""))
    load_error(path)


@pytest.mark.parametrize("metadata", [None, {"other": "x"}])
def test_safetensors_without_mlplab_metadata(
    tmp_path: Path, metadata: dict[str, str] | None
) -> None:
    path = tmp_path / "m.safetensors"
    path.write_bytes(safetensors.numpy.save({"w": np.ones(3)}, metadata=metadata))
    load_error(path, "'mlplab'")


def test_mlplab_metadata_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "m.mlp"
    path.write_bytes(safetensors.numpy.save({}, metadata={"mlplab": "{not json"}))
    load_error(path, "JSON")


@pytest.mark.parametrize("name", ["safetensors", "", None])
def test_wrong_format_name(saved: tuple[Path, bytes], tmp_path: Path, name: Any) -> None:
    doc = document(saved[1])
    doc["format"] = name
    path = tmp_path / "m.mlp"
    path.write_bytes(forge(doc, safetensors.numpy.load(saved[1])))
    load_error(path, "format name")


@pytest.mark.parametrize("version", [2, 0, -1, "1", 1.0, True, None])
def test_wrong_format_version(saved: tuple[Path, bytes], tmp_path: Path, version: Any) -> None:
    doc = document(saved[1])
    doc["format_version"] = version
    path = tmp_path / "m.mlp"
    path.write_bytes(forge(doc, safetensors.numpy.load(saved[1])))
    load_error(path, "format version")


def test_unknown_class_lists_known_classes(saved: tuple[Path, bytes], tmp_path: Path) -> None:
    doc = document(saved[1])
    doc["class"] = "os.system"
    path = tmp_path / "m.mlp"
    path.write_bytes(forge(doc, safetensors.numpy.load(saved[1])))
    err = load_error(path, "unknown class 'os.system'")
    assert "IoToy" in str(err)


def test_array_in_manifest_but_absent(saved: tuple[Path, bytes], tmp_path: Path) -> None:
    doc = document(saved[1])
    doc["arrays"]["ghost"] = {"dtype": "float64", "shape": [1], "sha256": "0" * 64}
    path = tmp_path / "m.mlp"
    path.write_bytes(forge(doc, safetensors.numpy.load(saved[1])))
    load_error(path, "'ghost'.*missing")


def test_array_present_but_not_in_manifest(saved: tuple[Path, bytes], tmp_path: Path) -> None:
    arrays = safetensors.numpy.load(saved[1])
    arrays["stowaway"] = np.zeros(2)
    path = tmp_path / "m.mlp"
    path.write_bytes(forge(document(saved[1]), arrays))
    load_error(path, "'stowaway'.*not listed")


def test_manifest_disagrees_with_stored_layout(saved: tuple[Path, bytes], tmp_path: Path) -> None:
    doc = document(saved[1])
    doc["arrays"]["weights"]["shape"] = [4, 8]
    path = tmp_path / "m.mlp"
    path.write_bytes(forge(doc, safetensors.numpy.load(saved[1]), digests=False))
    load_error(path, "'weights'.*manifest says")


@pytest.mark.parametrize("dtype", ["float16", "uint8", "int8", "int16", "uint32"])
def test_unsupported_dtype_is_named(saved: tuple[Path, bytes], tmp_path: Path, dtype: str) -> None:
    arrays = safetensors.numpy.load(saved[1])
    arrays["weights"] = arrays["weights"].astype(dtype)
    path = tmp_path / "m.mlp"
    path.write_bytes(forge(document(saved[1]), arrays))
    load_error(path, f"'weights'.*unsupported dtype '{dtype}'")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", ["weights", "bias"])
def test_non_finite_weight_is_rejected(
    saved: tuple[Path, bytes], tmp_path: Path, bad: float, name: str
) -> None:
    arrays = {k: v.copy() for k, v in safetensors.numpy.load(saved[1]).items()}
    arrays[name].flat[3] = bad
    path = tmp_path / "m.mlp"
    path.write_bytes(forge(document(saved[1]), arrays))  # digests are valid
    err = load_error(path, f"'{name}'.*NaN or inf")
    assert not isinstance(err, IntegrityError)


def test_manifest_digest_mismatch_names_the_array(
    saved: tuple[Path, bytes], tmp_path: Path
) -> None:
    doc = document(saved[1])
    doc["arrays"]["bias"]["sha256"] = "0" * 64
    path = tmp_path / "m.mlp"
    path.write_bytes(forge(doc, safetensors.numpy.load(saved[1]), digests=False))
    load_error(path, "SHA-256 mismatch for array 'bias'", IntegrityError)


def test_tampered_config_is_integrity_error(saved: tuple[Path, bytes], tmp_path: Path) -> None:
    doc = document(saved[1])
    doc["config"]["rate"] = 0.25
    path = tmp_path / "m.mlp"
    path.write_bytes(forge(doc, safetensors.numpy.load(saved[1]), digests=False))
    load_error(path, "SHA-256 mismatch for the config", IntegrityError)


def test_restore_failure_becomes_model_format_error(
    saved: tuple[Path, bytes], tmp_path: Path
) -> None:
    doc = document(saved[1])
    doc["config"]["fail"] = True
    path = tmp_path / "m.mlp"
    path.write_bytes(forge(doc, safetensors.numpy.load(saved[1])))
    err = load_error(path, "IoToy.__mlplab_restore__ rejected")
    assert isinstance(err.__cause__, ValueError)


def test_forged_but_valid_file_loads(saved: tuple[Path, bytes], tmp_path: Path) -> None:
    # Control for the forging tests above: an unmodified forge must load.
    path = tmp_path / "m.mlp"
    path.write_bytes(forge(document(saved[1]), safetensors.numpy.load(saved[1])))
    assert_same_toy(mio.load(saved[0]), mio.load(path))


@settings(
    max_examples=200,
    deadline=None,
    # the autouse pickle guard is function-scoped; sharing it across examples is
    # exactly what we want
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    edits=st.lists(
        st.tuples(st.integers(min_value=0), st.integers(0, 255)),
        min_size=1,
        max_size=8,
    ),
    cut=st.one_of(st.none(), st.integers(min_value=0)),
)
def test_random_mutations_raise_only_model_format_error(
    tmp_path_factory: pytest.TempPathFactory,
    edits: list[tuple[int, int]],
    cut: int | None,
) -> None:
    original = make_toy()
    directory = tmp_path_factory.mktemp("fuzz", numbered=True)
    mio.save(original, directory / "ok.mlp")
    corrupt = bytearray((directory / "ok.mlp").read_bytes())
    for offset, value in edits:
        corrupt[offset % len(corrupt)] = value
    if cut is not None:
        corrupt = corrupt[: cut % (len(corrupt) + 1)]
    path = directory / "mutated.mlp"
    path.write_bytes(bytes(corrupt))
    try:
        loaded = mio.load(path)
    except ModelFormatError as err:
        assert "\n" not in str(err)
    else:
        # Everything that matters is digest-protected: a successful load
        # returns exactly the saved object.
        assert_same_toy(original, loaded)


# --------------------------------------------------------------------------
# atomic writes
# --------------------------------------------------------------------------


def test_failed_replace_keeps_old_file_and_leaves_no_temp(
    saved: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch, toy: IoToy
) -> None:
    path, old_bytes = saved

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError("simulated failure in os.replace")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="simulated"):
        mio.save(make_toy(seed=7), path)
    assert path.read_bytes() == old_bytes
    assert_same_toy(toy, mio.load(path))
    assert os.listdir(path.parent) == [path.name]


def test_failed_write_of_new_file_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toy: IoToy
) -> None:
    def broken_fsync(fd: int) -> None:
        raise OSError("simulated failure in os.fsync")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="simulated"):
        mio.save(toy, tmp_path / "m.mlp")
    assert os.listdir(tmp_path) == []


def test_save_fsyncs_file_before_replace_then_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toy: IoToy
) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def spy_fsync(fd: int) -> None:
        is_dir = stat.S_ISDIR(os.fstat(fd).st_mode)
        events.append("fsync-dir" if is_dir else "fsync-file")
        real_fsync(fd)

    def spy_replace(src: Any, dst: Any) -> None:
        src_name = os.path.basename(os.fspath(src))
        assert src_name.startswith(".m.mlp.") and src_name.endswith(".tmp")
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", spy_fsync)
    monkeypatch.setattr(os, "replace", spy_replace)
    mio.save(toy, tmp_path / "m.mlp")
    expected = ["fsync-file", "replace"]
    if hasattr(os, "O_DIRECTORY"):
        expected.append("fsync-dir")
    assert events == expected
    assert os.listdir(tmp_path) == ["m.mlp"]


def test_overwrite_replaces_content_and_keeps_permissions(
    saved: tuple[Path, bytes],
) -> None:
    path, old_bytes = saved
    os.chmod(path, 0o640)
    other = make_toy(seed=3)
    mio.save(other, path)
    assert path.read_bytes() != old_bytes
    assert_same_toy(other, mio.load(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert os.listdir(path.parent) == [path.name]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_new_file_mode_follows_umask(tmp_path: Path, toy: IoToy) -> None:
    previous = os.umask(0o027)
    try:
        mio.save(toy, tmp_path / "m.mlp")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "m.mlp").st_mode) == 0o640


# --------------------------------------------------------------------------
# the real engine (runs once mlplab.network has landed)
# --------------------------------------------------------------------------


def engine() -> Any:
    """Import mlplab with its engine, or skip while the engine is not written."""
    if importlib.util.find_spec("mlplab.network") is None:
        pytest.skip("the engine (mlplab.network) is not available yet")
    import mlplab

    return mlplab


def make_net(mlplab: Any) -> Any:
    return mlplab.Sequential(
        [mlplab.Dense(3, activation="tanh"), mlplab.Dense(1)], n_inputs=2, seed=0
    )


def test_engine_exports_save_and_load() -> None:
    mlplab = engine()
    assert mlplab.save is mio.save
    assert mlplab.load is mio.load


def test_engine_round_trip_is_bit_identical(tmp_path: Path) -> None:
    mlplab = engine()
    net = make_net(mlplab)
    path = tmp_path / "net.mlp"
    mlplab.save(net, path)
    net2 = mlplab.load(path)
    assert type(net2) is type(net)
    assert net2.theta.dtype == net.theta.dtype
    assert np.array_equal(net.theta, net2.theta)
    assert net.theta.tobytes() == net2.theta.tobytes()
    X = np.random.default_rng(0).standard_normal((7, 2))
    assert np.array_equal(net.forward(X), net2.forward(X))


def test_engine_save_is_deterministic(tmp_path: Path) -> None:
    mlplab = engine()
    net = make_net(mlplab)
    mlplab.save(net, tmp_path / "a.mlp")
    mlplab.save(make_net(mlplab), tmp_path / "b.mlp")
    assert (tmp_path / "a.mlp").read_bytes() == (tmp_path / "b.mlp").read_bytes()
    mlplab.load(tmp_path / "a.mlp")  # and it loads


def test_orphaned_temp_file_of_a_killed_save_is_removed_by_the_next_save(tmp_path):
    """A save killed with SIGKILL leaves its temp file; the next successful save removes it."""
    import signal
    import subprocess
    import sys
    import textwrap

    src = str(Path(mio.__file__).resolve().parents[1])
    target = tmp_path / "model.mlplab"
    code = textwrap.dedent(
        f"""
        import os, signal, mlplab.io as io
        def die(*a, **k):  # the temp file is written and fsynced: die before the rename
            os.kill(os.getpid(), signal.SIGKILL)
        os.replace = die
        class IoToy:
            def __mlplab_state__(self):
                import numpy as np
                return {{}}, {{"a": np.arange(3.0)}}
            @classmethod
            def __mlplab_restore__(cls, config, arrays):
                return cls()
        io.register_saveable(IoToy)
        io.save(IoToy(), {str(target)!r})
        """
    )
    env = {**os.environ, "PYTHONPATH": src}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, env=env)
    assert proc.returncode == -signal.SIGKILL
    orphans = list(tmp_path.glob(".model.mlplab.*.tmp"))
    assert len(orphans) == 1  # the killed save left its temp file
    # a live writer's temp file (this process's pid is alive) must survive
    live = tmp_path / f".model.mlplab.{os.getppid()}.live.tmp"
    live.write_bytes(b"x")
    mio.save(IoToy({"k": 1}, {"a": np.arange(2.0)}), target)
    assert not orphans[0].exists()
    assert live.exists()
    assert mio.load(target).config == {"k": 1}


KILLED_SAVES = textwrap.dedent(
    """
    import glob, json, os, random, signal, sys, time
    import numpy as np
    import mlplab.io as io

    class IoToy:
        def __init__(self, k):
            self.k, self.a = k, np.full(25_000, float(k))  # 200 kB
        def __mlplab_state__(self):
            return {"k": self.k}, {"a": self.a}
        @classmethod
        def __mlplab_restore__(cls, config, arrays):
            obj = cls(config["k"])
            assert np.array_equal(arrays["a"], obj.a)  # the whole old or new state
            return obj

    io.register_saveable(IoToy)
    target = sys.argv[1]
    start = time.perf_counter()
    for k in (0, 1, 0):
        io.save(IoToy(k), target)
    dt = (time.perf_counter() - start) / 3  # one save (fsyncs included) on this disk
    rnd, seen, orphans = random.Random(16), [], 0
    for i in range(50):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # saves the new state, then the old, ... until killed
            os.close(r)
            for j in range(10**9):
                io.save(IoToy(1 + j % 2), target)
                if j == 0:
                    os.write(w, b"x")  # the first new state is in place
        os.close(w)
        # every other kill waits for the child's first save to be in place, so that some
        # kills land after a rename however slow the machine is; the others may not
        if i % 2:
            os.read(r, 1)
        time.sleep(rnd.uniform(0.0, 3 * dt))  # within the next few saves
        os.kill(pid, signal.SIGKILL)
        os.close(r)
        os.waitpid(pid, 0)
        seen.append(io.load(target).k)  # always loads
        orphans += len(glob.glob(target + ".*.tmp") + glob.glob(os.path.join(
            os.path.dirname(target), "." + os.path.basename(target) + ".*.tmp")))
        io.save(IoToy(0), target)  # the next successful save...
        left = glob.glob(os.path.join(os.path.dirname(target), ".*.tmp"))
        assert left == [], left  # ...leaves no temp file
    print(json.dumps({"seen": seen, "orphans": orphans}))
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork and SIGKILL")
def test_save_killed_at_50_random_points_leaves_the_old_or_the_new_file(tmp_path):
    """RELIABILITY 16: SIGKILL at random moments of saves; the file always loads and holds
    a whole state; the next successful save removes the killed writers' temp files."""
    import subprocess
    import sys

    src = str(Path(mio.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src, "OPENBLAS_NUM_THREADS": "1"}
    target = str(tmp_path / "model.mlplab")
    proc = subprocess.run([sys.executable, "-c", KILLED_SAVES, target],
                          capture_output=True, text=True, timeout=120, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert len(report["seen"]) == 50 and set(report["seen"]) <= {0, 1, 2}
    assert len(set(report["seen"])) > 1  # kills after a rename, too: the new state
    assert report["orphans"] > 0  # kills did land inside saves (between temp file and rename)


# ------------------------------------------- forged configs cannot make load allocate
def _saved_net(tmp_path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    import mlplab

    net = mlplab.Sequential(
        [mlplab.Dense(3, activation="tanh"), mlplab.BatchNorm(), mlplab.Dense(1)],
        n_inputs=2,
        seed=0,
    )
    path = tmp_path / "small.mlplab"
    mio.save(net, path)
    blob = path.read_bytes()
    return document(blob), safetensors.numpy.load(blob)


def _rss_bytes() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def test_forged_huge_sizes_are_refused_before_anything_is_allocated(tmp_path):
    """A 30000 x 30000 network declared by a small file's config (digests recomputed):
    load names the field and refuses, in milliseconds, without allocating it."""
    doc, arrays = _saved_net(tmp_path)
    doc["config"]["network"]["n_inputs"] = 30000
    doc["config"]["network"]["layers"][0]["units"] = 30000
    forged = tmp_path / "forged.mlplab"
    forged.write_bytes(forge(doc, arrays))
    assert forged.stat().st_size < 20_000
    before = _rss_bytes()
    t0 = time.perf_counter()
    err = load_error(forged, match="0.W")
    elapsed = time.perf_counter() - t0
    assert "(30000, 30000)" in str(err) and "layers[0]" in str(err)
    assert elapsed < 0.05, elapsed
    assert _rss_bytes() - before < 20 * 2**20


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n_inputs=st.integers(1, 50_000),
    units=st.lists(st.integers(1, 50_000), min_size=1, max_size=4),
)
@example(n_inputs=2, units=[3, 1])  # the true config: it loads
@example(n_inputs=2, units=[3, 2])
def test_forged_configs_load_only_when_they_match_the_arrays(tmp_path, n_inputs, units):
    doc, arrays = _saved_net(tmp_path)
    net_cfg = doc["config"]["network"]
    net_cfg["n_inputs"] = n_inputs
    dense = [c for c in net_cfg["layers"] if c["class"] == "Dense"]
    for cfg, u in zip(dense, units, strict=False):
        cfg["units"] = u
    forged = tmp_path / "forged.mlplab"
    forged.write_bytes(forge(doc, arrays))
    matches = n_inputs == 2 and [c["units"] for c in dense] == [3, 1]
    if matches:
        assert mio.load(forged).n_params == 19  # 2x3 + 3, BatchNorm 3 + 3, 3x1 + 1
    else:
        t0 = time.perf_counter()
        load_error(forged, match="declares|does not declare")
        assert time.perf_counter() - t0 < 0.5


# ------------------------------------ RELIABILITY 11-13, 15: a real model file under attack
#: the mutation fuzz's example count: 1000 in CI, 10 000 nightly (tests/conftest.py)
FUZZ_EXAMPLES = 10_000 if os.environ.get("MLPLAB_HYPOTHESIS_PROFILE") == "nightly" else 1000


def _small_model(tmp_path: Path, trained: bool = True) -> tuple[Path, bytes]:
    """A 3-8-1 Sequential: trained (weights and Adam's moments, about 3 kB) or not (about
    1.5 kB)."""
    import mlplab

    net = mlplab.Sequential([mlplab.Dense(8, "tanh"), mlplab.Dense(1)], n_inputs=3, seed=0)
    if trained:
        X = np.random.default_rng(0).standard_normal((16, 3))
        net.fit(X, X[:, :1], epochs=1, optimizer="adam", diagnostics=False)
    path = tmp_path / "small.mlplab"
    mio.save(net, path)
    return path, path.read_bytes()


def _refused_within_limits(path: Path) -> ModelFormatError:
    """Load ``path``: only a ModelFormatError, in < 0.5 s, with a tracemalloc peak under
    2x the file size + 50 MB (RELIABILITY 13; tracemalloc must be tracing)."""
    tracemalloc.reset_peak()
    start = time.perf_counter()
    with pytest.raises(ModelFormatError) as info:
        mio.load(path)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    assert elapsed < 0.5, (path, elapsed)
    assert peak < 2 * path.stat().st_size + 50 * 2**20, (path, peak)
    assert "\n" not in str(info.value)
    return info.value


@pytest.fixture
def traced():
    tracemalloc.start()
    yield
    tracemalloc.stop()


def hostile_files(sentinel: Path, model: bytes) -> dict[str, bytes]:
    """The crafted-file corpus: each would run code (touch ``sentinel``) if unpickled,
    or wraps / disguises a valid model (``model``, the bytes of a real model file)."""
    evil = Evil(sentinel)
    files = {f"pickle-protocol-{p}": pickle.dumps(evil, protocol=p) for p in range(6)}
    files.update({f"joblib-like-{k}": v for k, v in _joblib_like_files(evil).items()})
    import io as _io

    import joblib

    for compress in (0, 3, ("xz", 3)):
        buf = _io.BytesIO()
        joblib.dump({"model": evil, "coef": np.ones(3)}, buf, compress=compress)
        files[f"joblib-{compress}"] = buf.getvalue()
    buf = _io.BytesIO()
    np.save(buf, np.array([evil], dtype=object), allow_pickle=True)
    files["npy-object-array"] = buf.getvalue()
    buf = _io.BytesIO()
    np.savez(buf, W=np.ones(3), evil=np.array([evil], dtype=object))
    files["npz-pickled-member"] = buf.getvalue()
    buf = _io.BytesIO()
    np.savez(buf, model=np.frombuffer(model, np.uint8))
    files["npz-wrapping-a-valid-model"] = buf.getvalue()
    files["gzip-of-a-valid-model"] = gzip.compress(model)
    files["valid-model-then-pickle"] = model + pickle.dumps(evil)
    files["pickle-then-valid-model"] = pickle.dumps(evil) + model
    # a valid safetensors header (digests recomputed) whose one array holds a pickle stream
    payload = pickle.dumps(evil)
    payload += b"." * (-len(payload) % 8)
    doc = document(model)
    doc["arrays"] = {"payload": {"dtype": "float64", "shape": [len(payload) // 8], "sha256": ""}}
    files["valid-header-pickle-data"] = forge(doc, {"payload": np.frombuffer(payload, "<f8")})
    # the mlplab document names a callable instead of a registered class
    doc = document(model)
    doc["class"] = "builtins.eval"
    files["class-names-a-callable"] = forge(doc, safetensors.numpy.load(model))
    return files


@pytest.fixture
def no_unpickler(monkeypatch):
    """Fail the test if any unpickler runs: pickle's Python and C loaders and Unpicklers
    (beyond the autouse ``forbid_unpickling``, which watches the public names only)."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        pytest.fail("an unpickler was invoked")

    for name in ("_Unpickler", "_load", "_loads"):
        monkeypatch.setattr(pickle, name, refuse)
    for name in ("Unpickler", "load", "loads"):
        monkeypatch.setattr(_pickle, name, refuse)


def test_hostile_corpus_is_refused_without_unpickling(tmp_path, no_unpickler, traced):
    """RELIABILITY 11: >= 10 crafted files through mlplab.load: a ModelFormatError each,
    no sentinel, pickle's Unpicklers (C and Python) never invoked (the autouse spy too)."""
    _, model = _small_model(tmp_path)
    sentinel = tmp_path / "sentinel"
    files = hostile_files(sentinel, model)
    assert len(files) >= 10
    for name, blob in files.items():
        path = tmp_path / f"{name}.mlplab"
        path.write_bytes(blob)
        _refused_within_limits(path)
        assert not sentinel.exists(), name


def test_hostile_corpus_through_the_cli_is_one_line_refusal(tmp_path, no_unpickler, capsys):
    """RELIABILITY 11 and 25, the CLI half: ``mlplab info FILE`` on each crafted file exits
    1 with one line (no traceback), no sentinel, no unpickler; a pickle or joblib dump
    is named as such and the safe format (mlplab.save) is named."""
    from mlplab.cli import main

    _, model = _small_model(tmp_path)
    sentinel = tmp_path / "sentinel"
    for name, blob in hostile_files(sentinel, model).items():
        path = tmp_path / f"{name}.mlplab"
        path.write_bytes(blob)
        assert main(["info", str(path)]) == 1, name
        out, err = capsys.readouterr()
        assert out == "" and err.startswith("mlplab: error: ") and err.count("\n") == 1, name
        if name.startswith(("pickle-", "joblib-")):
            assert "pickle" in err and "mlplab.save" in err, (name, err)
        assert not sentinel.exists(), name
    path = tmp_path / "model.mlplab"
    path.write_bytes(model)
    assert main(["info", str(path)]) == 0  # the genuine file, for contrast
    assert "total parameters" in capsys.readouterr().out


def _layout(model: bytes) -> tuple[dict[str, Any], bytes, list[str]]:
    header, data = split(model)
    names = sorted(
        (k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"]
    )
    return header, data, names


def _rule_cases(model: bytes) -> dict[str, tuple[bytes, str, type[Exception]]]:
    """One crafted file per validation rule: (bytes, the rule's own message, error type)."""
    header, data, names = _layout(model)
    first, second, last = names[0], names[1], names[-1]
    arrays = safetensors.numpy.load(model)

    def edit(name: str, **entry: Any) -> bytes:
        h = json.loads(json.dumps(header))
        h[name].update(entry)
        return assemble(h, data)

    weights = next(n for n in names if arrays[n].dtype.kind == "f")

    def bad_array(value: float) -> bytes:
        forged = {k: v.copy() for k, v in arrays.items()}
        forged[weights].flat[0] = value
        return forge(document(model), forged)

    raw = json.dumps(header).encode()
    duplicate = raw[:-1] + b", " + json.dumps({first: header[first]}).encode()[1:]
    doc = document(model)
    doc["format_version"] = 99
    unknown_version = forge(doc, arrays)
    b, e = header[second]["data_offsets"]
    lb, le = header[last]["data_offsets"]
    big = header[first]["data_offsets"]
    return {
        "header over the cap": (
            (mio.MAX_HEADER_BYTES + 1).to_bytes(8, "little") + b"{" + b" " * 64,
            "exceeds the 104857600-byte limit",
            ModelFormatError,
        ),
        "negative offset": (
            edit(first, data_offsets=[-8, big[1]]),
            "invalid data offsets",
            ModelFormatError,
        ),
        "overlapping offsets": (
            edit(second, data_offsets=[b - 8, e - 8]),
            f"'{second}'.*overlaps",
            ModelFormatError,
        ),
        "offsets out of bounds": (
            edit(last, data_offsets=[lb + len(data), le + len(data)]),
            f"'{last}' has data offsets .*beyond the end",
            ModelFormatError,
        ),
        "gap between arrays": (
            assemble(
                {**header, last: {**header[last], "data_offsets": [lb + 8, le + 8]}},
                data + bytes(8),
            ),
            f"bytes {lb}..{lb + 8} before array '{last}' belong to no array",
            ModelFormatError,
        ),
        "trailing bytes": (
            assemble(header, data + bytes(8)),
            "last 8 byte.* belong to no array",
            ModelFormatError,
        ),
        "shape x dtype != byte length": (
            edit(weights, shape=[1]),
            f"'{weights}'.*needs 8 bytes but its offsets span",
            ModelFormatError,
        ),
        "shape overflow": (
            edit(first, shape=[2**62, 2**62, 2**62]),
            f"'{first}'.*declares .* bytes, beyond the whole",
            ModelFormatError,
        ),
        "duplicate keys": (
            len(duplicate).to_bytes(8, "little") + duplicate + data,
            f"duplicate key '{first}'",
            ModelFormatError,
        ),
        "unknown dtype": (
            edit(first, dtype="F16"),
            "unsupported dtype 'float16'",
            ModelFormatError,
        ),
        "unknown format version": (
            unknown_version,
            "unsupported format version 99",
            ModelFormatError,
        ),
        "non-finite weight (NaN)": (
            bad_array(np.nan),
            f"'{weights}' contains 1 NaN or inf",
            ModelFormatError,
        ),
        "non-finite weight (inf)": (
            bad_array(np.inf),
            f"'{weights}' contains 1 NaN or inf",
            ModelFormatError,
        ),
        "digest mismatch": (
            model[:-1] + bytes([model[-1] ^ 1]),
            "SHA-256 mismatch for array",
            IntegrityError,
        ),
    }


def test_validator_table_one_case_per_rule(tmp_path, deserialize_calls):
    """RELIABILITY 12: each rule gives its own message (no two cases share one); the layout
    rules are enforced before safetensors sees the bytes."""
    _, model = _small_model(tmp_path)
    cases = _rule_cases(model)
    deserialize_calls.clear()  # _rule_cases parsed the valid file
    messages = {}
    for rule, (blob, match, error) in cases.items():
        path = tmp_path / "case.mlplab"
        path.write_bytes(blob)
        with pytest.raises(error, match=match) as info:
            mio.load(path)
        messages[rule] = str(info.value).split("': ", 1)[1]
        if error is not IntegrityError and "non-finite" not in rule:
            assert deserialize_calls == [], rule
        deserialize_calls.clear()
    by_rule = {}  # one rule, one message: the two non-finite cases share theirs
    for case, message in messages.items():
        by_rule.setdefault(case.split(" (")[0], set()).add(message)
    assert all(len(m) == 1 for m in by_rule.values()), by_rule
    assert len({m.pop() for m in by_rule.values()}) == len(by_rule), messages


def test_truncating_a_real_model_at_every_offset(tmp_path, traced):
    """RELIABILITY 13: every prefix of a real model file: only ModelFormatError, each load
    < 0.5 s, peak traced memory < 2x the file size + 50 MB."""
    _, model = _small_model(tmp_path, trained=False)
    path = tmp_path / "cut.mlplab"
    for cut in range(len(model)):
        path.write_bytes(model[:cut])
        _refused_within_limits(path)


_FUZZ_REFERENCE: list[Any] = []


def _fuzz_reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Any]:
    """The real model file the fuzz mutates and the network it holds (made once)."""
    if not _FUZZ_REFERENCE:
        path, model = _small_model(tmp_path_factory.mktemp("fuzz-model"))
        _FUZZ_REFERENCE.extend([model, mio.load(path)])
    return _FUZZ_REFERENCE[0], _FUZZ_REFERENCE[1]


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(min_value=0),
            st.sampled_from(["set", "insert", "delete"]),
            st.integers(0, 255),
        ),
        min_size=1,
        max_size=6,
    ),
    cut=st.one_of(st.none(), st.integers(min_value=0)),
)
def test_mutated_real_model_raises_only_model_format_error(tmp_path_factory, edits, cut):
    """RELIABILITY 13: byte edits, insertions, deletions and a cut of a real model file:
    either the saved network comes back exactly or a ModelFormatError, each load < 0.5 s.
    FUZZ_EXAMPLES cases: 1000 in CI, 10 000 nightly. (Memory is bounded by the truncation
    test: tracemalloc would trace hypothesis' own engine here.)"""
    model, reference = _fuzz_reference(tmp_path_factory)
    blob = bytearray(model)
    for offset, op, value in edits:
        i = offset % (len(blob) + 1)
        if op == "set" and i < len(blob):
            blob[i] = value
        elif op == "insert":
            blob[i:i] = bytes([value])
        elif op == "delete" and i < len(blob):
            del blob[i]
    if cut is not None:
        blob = blob[: cut % (len(blob) + 1)]
    path = tmp_path_factory.getbasetemp() / "mutated.mlplab"
    path.write_bytes(bytes(blob))
    start = time.perf_counter()
    try:
        loaded = mio.load(path)
    except ModelFormatError as err:
        assert "\n" not in str(err)
    else:  # everything that matters is digest-protected: exactly the saved network
        assert loaded.get_config() == reference.get_config()
        np.testing.assert_array_equal(loaded.theta, reference.theta)
    assert time.perf_counter() - start < 0.5


def test_any_of_200_flipped_data_bytes_is_an_integrity_error(tmp_path):
    """RELIABILITY 15: a real model file; 200 sampled bytes of its data section, one bit
    flipped each: IntegrityError naming the array (the digests are checked before the
    NaN/inf and restore checks, so a flip to NaN is an IntegrityError too)."""
    _, model = _small_model(tmp_path)
    header, data, names = _layout(model)
    start = len(model) - len(data)
    assert len(data) >= 200
    rng = np.random.default_rng(15)
    offsets = rng.choice(np.arange(start, len(model)), size=200, replace=False)
    path = tmp_path / "flipped.mlplab"
    for i, offset in enumerate(offsets):
        corrupt = bytearray(model)
        corrupt[offset] ^= 1 << (i % 8)
        path.write_bytes(bytes(corrupt))
        owner = next(n for n in names if header[n]["data_offsets"][1] > offset - start)
        load_error(path, f"SHA-256 mismatch for array '{owner}'", IntegrityError)


def test_10_kB_file_declaring_a_10_GB_tensor_is_refused_in_50_ms(tmp_path, traced):
    """RELIABILITY 15: a real model's header rewritten to declare a 10 GB float64 tensor,
    padded to 10 kB: refused in < 50 ms, peak traced memory < 1 MB (nothing allocated)."""
    _, model = _small_model(tmp_path)
    header, data, names = _layout(model)
    n = 10 * 10**9 // 8
    header[names[0]] = {"dtype": "F64", "shape": [n], "data_offsets": [0, 8 * n]}
    blob = assemble(header, data)
    blob += bytes(10_000 - len(blob))
    path = tmp_path / "huge.mlplab"
    path.write_bytes(blob)
    tracemalloc.reset_peak()
    start = time.perf_counter()
    with pytest.raises(ModelFormatError, match="declares 10000000000 bytes"):
        mio.load(path)
    assert time.perf_counter() - start < 0.05
    assert tracemalloc.get_traced_memory()[1] < 2**20


def test_zip_entry_declaring_a_huge_size_is_refused_without_decompressing(tmp_path, traced):
    """RELIABILITY 15: a zip (npz-shaped) whose entry declares 10 GB: mlplab never opens
    zips, so it is refused from its first bytes, in < 50 ms, allocating nothing."""
    name = b"W.npy"
    local = struct.pack(
        "<4sHHHHHIIIHH", b"PK\x03\x04", 45, 0, 8, 0, 0, 0, 2**32 - 1, 2**32 - 1, len(name), 20
    )
    zip64 = struct.pack("<HHQQ", 1, 16, 10 * 10**9, 10 * 10**9)  # zip64 sizes: 10 GB
    path = tmp_path / "bomb.npz"
    path.write_bytes(local + name + zip64 + zlib.compress(bytes(10_000)))
    tracemalloc.reset_peak()
    start = time.perf_counter()
    load_error(path, "npz")
    assert time.perf_counter() - start < 0.05
    assert tracemalloc.get_traced_memory()[1] < 2**20
