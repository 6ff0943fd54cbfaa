"""Safe, deterministic persistence for mlplab objects.

A model file is a `safetensors <https://github.com/huggingface/safetensors>`_
file. Its arrays are stored as safetensors tensors; its string metadata holds a
single JSON document under the key ``"mlplab"``::

    {
      "arrays": {"<name>": {"dtype": "float64", "shape": [3, 2],
                            "sha256": "<hex digest of the raw LE bytes>"}, ...},
      "class": "Sequential",
      "config": {...},
      "config_sha256": "<hex digest of the canonical config JSON>",
      "format": "mlplab",
      "format_version": 1,
      "mlplab_version": "0.1.0"
    }

A checkpoint (:class:`mlplab.ModelCheckpoint`) is a model file whose config also has
a ``"resume"`` entry and whose arrays include ``"resume.<name>"`` ones: a training
run's state, saved with ``save(obj, path, resume=(config, arrays))`` and covered by
the same digests. :func:`load` leaves it aside; :func:`load_with_resume` returns it.

Nothing in a model file is ever executed and pickle is never used: loading
parses JSON and raw numeric bytes only, and the class to rebuild is looked up
in an explicit registry (:func:`register_saveable`). The safetensors container
(header length, JSON header, tensor entries) is read and checked by
:mod:`mlplab.io_format`; this module checks the mlplab document and rebuilds.

An object is saveable if its class implements the persistence protocol:

``obj.__mlplab_state__() -> (config, arrays)``
    ``config`` is a JSON-serialisable dict, ``arrays`` maps names to numpy
    arrays of dtype float32, float64, int64, int32 or bool.
``cls.__mlplab_restore__(config, arrays)`` (classmethod)
    Rebuilds the object. It receives the config as parsed from JSON (tuples
    come back as lists) and writable, C-contiguous arrays.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import math
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np
import safetensors.numpy

from mlplab.io_format import (
    ALLOWED_NAMES,
    ALLOWED_TEXT,
    MAX_HEADER_BYTES,
    IntegrityError,
    ModelFormatError,
    check_tensors,
    deserialize,
    fail,
    parse_json,
    read_file,
)

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_HEADER_BYTES",
    "IntegrityError",
    "ModelFormatError",
    "atomic_write",
    "from_json_tree",
    "json_tree",
    "jsonable",
    "load",
    "load_with_resume",
    "register_saveable",
    "save",
]

FORMAT_NAME = "mlplab"
"""Format name stored in (and required from) every model file."""

FORMAT_VERSION = 1
"""Version of the file layout written by :func:`save`; the only one read."""

_METADATA_KEY = "mlplab"
_RESUME = "resume"  # the config key and array-name prefix of a checkpoint's resume state
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")

_T = TypeVar("_T", bound=type)
_REGISTRY: dict[str, type] = {}


# --------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------


def register_saveable(cls: _T) -> _T:
    """Register a class so that :func:`load` can rebuild its instances.

    Usable as a class decorator. Classes are registered under
    ``cls.__name__``, which is the name written into model files.

    Parameters
    ----------
    cls : type
        A class implementing ``__mlplab_state__`` and the classmethod
        ``__mlplab_restore__``.

    Returns
    -------
    type
        ``cls`` itself, unchanged.

    Raises
    ------
    TypeError
        If ``cls`` is not a class or lacks the persistence protocol.
    ValueError
        If a different class (other module or qualified name) is already
        registered under the same name. Re-registering the same class, e.g.
        after a module reload, replaces the entry.
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_saveable expects a class, got {cls!r}")
    for method in ("__mlplab_state__", "__mlplab_restore__"):
        if not callable(getattr(cls, method, None)):
            raise TypeError(f"cannot register {cls.__qualname__}: it does not define {method}")
    name = cls.__name__
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not cls:
        same = (existing.__module__, existing.__qualname__) == (
            cls.__module__,
            cls.__qualname__,
        )
        if not same:
            raise ValueError(
                f"cannot register {cls.__module__}.{cls.__qualname__} as "
                f"{name!r}: that name already belongs to "
                f"{existing.__module__}.{existing.__qualname__}"
            )
    _REGISTRY[name] = cls
    return cls


def _known_classes() -> str:
    return ", ".join(sorted(_REGISTRY)) or "(none registered)"


# --------------------------------------------------------------------------
# save
# --------------------------------------------------------------------------


def _canonical_json(value: Any) -> str:
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
    )


def _sha256(data: bytes | str | np.ndarray) -> str:
    """Hex SHA-256 of text (UTF-8) or of a C-contiguous buffer, without copying."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _mlplab_version() -> str | None:
    try:
        from mlplab._version import __version__
    except ImportError:
        return None
    return str(__version__)


def _whole_pipeline_hint(obj: object) -> str:
    """What to do with a scikit-learn composite (a Pipeline, a TransformedTargetRegressor…)."""
    if not hasattr(obj, "get_params") or not hasattr(obj, "fit"):
        return ""
    return (
        " For a scikit-learn Pipeline or another composite: save its mlplab model with "
        "mlplab.save (e.g. pipeline[-1], or regressor_ of a TransformedTargetRegressor) and "
        "the whole object with skops.io (safe, inspectable) or joblib (only for files you trust)."
    )


def _collect_state(
    obj: object, resume: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None
) -> tuple[str, str, dict[str, np.ndarray]]:
    """Return ``(class name, canonical config JSON, prepared arrays)``; ``resume``
    (config, arrays) is added as the config's ``"resume"`` entry and ``resume.*`` arrays."""
    cls = type(obj)
    qualified = f"{cls.__module__}.{cls.__qualname__}"
    if not (
        callable(getattr(obj, "__mlplab_state__", None))
        and callable(getattr(cls, "__mlplab_restore__", None))
    ):
        raise TypeError(
            f"cannot save an object of type {qualified}: mlplab.save stores mlplab models "
            "(Sequential, the estimators, the recurrent models), whose classes implement "
            "the persistence protocol (__mlplab_state__ and the classmethod "
            f"__mlplab_restore__).{_whole_pipeline_hint(obj)}"
        )
    name = cls.__name__
    if _REGISTRY.get(name) is not cls:
        raise TypeError(
            f"cannot save an object of type {qualified}: the class is not "
            "registered, so load() could not rebuild it; decorate it with "
            "mlplab.io.register_saveable"
        )
    state = obj.__mlplab_state__()  # type: ignore[attr-defined]
    if not (isinstance(state, tuple) and len(state) == 2):
        raise TypeError(
            f"{qualified}.__mlplab_state__ must return a (config, arrays) "
            f"tuple, got {type(state).__name__}"
        )
    config, arrays = state
    if not isinstance(config, Mapping):
        raise TypeError(
            f"{qualified}.__mlplab_state__ returned a config of type "
            f"{type(config).__name__}, expected a dict"
        )
    if not isinstance(arrays, Mapping):
        raise TypeError(
            f"{qualified}.__mlplab_state__ returned arrays of type "
            f"{type(arrays).__name__}, expected a dict of numpy arrays"
        )
    if resume is not None:
        config, arrays = _with_resume(qualified, config, arrays, resume)
    try:
        config_json = _canonical_json(dict(config))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"the config of {qualified} is not JSON-serialisable: {exc}") from exc

    for key in arrays:
        if not isinstance(key, str) or not key or key == "__metadata__":
            raise ValueError(
                f"invalid array name {key!r} in the state of {qualified}: "
                "names must be non-empty strings other than '__metadata__'"
            )
    prepared: dict[str, np.ndarray] = {}
    for key in sorted(arrays):
        arr = np.asarray(arrays[key])
        if arr.dtype.kind not in "fiub" or arr.dtype.name not in ALLOWED_NAMES:
            raise TypeError(
                f"array {key!r} of {qualified} has dtype {arr.dtype}; "
                f"mlplab files store only {ALLOWED_TEXT}"
            )
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise ValueError(
                f"array {key!r} of {qualified} contains NaN or inf; refusing to "
                "write a model file that load() would reject"
            )
        # Little-endian, C-contiguous: the exact bytes the digest covers.
        prepared[key] = np.asarray(arr, dtype=arr.dtype.newbyteorder("<"), order="C")
    return name, config_json, prepared


def _with_resume(qualified, config, arrays, resume):
    """The object's config and arrays with a resume state beside them."""
    if _RESUME in config or any(str(k).startswith(f"{_RESUME}.") for k in arrays):
        raise TypeError(
            f"the state of {qualified} already uses the name {_RESUME!r}; it cannot "
            "carry a resume state"
        )
    resume_config, resume_arrays = resume
    config = {**config, _RESUME: dict(resume_config)}
    arrays = {**arrays, **{f"{_RESUME}.{k}": v for k, v in resume_arrays.items()}}
    return config, arrays


def _encode(
    obj: object, resume: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None
) -> bytes:
    """Serialise ``obj`` (and a resume state) to the bytes of an mlplab model file."""
    class_name, config_json, arrays = _collect_state(obj, resume)
    manifest = {
        key: {
            "dtype": arr.dtype.name,
            "shape": list(arr.shape),
            "sha256": _sha256(arr),
        }
        for key, arr in arrays.items()
    }
    document = {
        "arrays": manifest,
        "class": class_name,
        "config": json.loads(config_json),
        "config_sha256": _sha256(config_json),
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "mlplab_version": _mlplab_version(),
    }
    metadata = {_METADATA_KEY: _canonical_json(document)}
    return safetensors.numpy.save(arrays, metadata=metadata)


def _default_mode(path: str) -> int:
    """Permission bits for the new file: keep the old file's, else use umask."""
    with contextlib.suppress(OSError):
        return stat.S_IMODE(os.stat(path).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_directory(directory: str) -> None:
    """Flush a directory entry to disk; best effort, skipped where unsupported."""
    flag = getattr(os, "O_DIRECTORY", None)
    if flag is None:
        return
    try:
        fd = os.open(directory, os.O_RDONLY | flag)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _remove_orphans(directory: str, name: str) -> None:
    """Delete temp files of earlier saves to the same path whose writer is gone.

    The writer's process id is in the temp file's name; a process that no longer
    exists (killed mid-save) cannot finish its write, so its file is an orphan.
    Files of live writers (a concurrent save) are left alone.
    """
    prefix = f".{name}."
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        if not (entry.startswith(prefix) and entry.endswith(".tmp")):
            continue
        pid_text = entry[len(prefix) :].split(".", 1)[0]
        if not pid_text.isdigit():
            continue
        pid = int(pid_text)
        if pid == os.getpid():
            continue  # our own (a save in another thread, or this one)
        try:
            os.kill(pid, 0)
            continue  # the writer is alive
        except ProcessLookupError:
            pass
        except (PermissionError, OSError):
            continue  # alive but not ours, or unknown: leave it
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(directory, entry))


def atomic_write(path: str, data: bytes) -> None:
    directory, name = os.path.split(os.path.abspath(path))
    mode = _default_mode(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.{os.getpid()}.", suffix=".tmp")
    try:
        with open(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)
    _remove_orphans(directory, name)


def save(
    obj: object,
    path: str | os.PathLike[str],
    *,
    resume: tuple[Mapping[str, Any], Mapping[str, Any]] | None = None,
) -> None:
    """Save a saveable object to an mlplab model file.

    The file is written atomically: the bytes go to a temporary file in the
    same directory, which is flushed, fsync'ed and then renamed onto
    ``path``. If anything fails, the temporary file is removed and any
    existing file at ``path`` is left untouched. Saving the same object twice
    produces byte-identical files.

    Parameters
    ----------
    obj : object
        An instance of a class registered with :func:`register_saveable`.
    path : str or os.PathLike
        Destination file; it is replaced if it exists.
    resume : (config, arrays), optional
        A training run's state to store beside the object (what
        :class:`mlplab.ModelCheckpoint` writes): the config's ``"resume"`` entry
        and arrays named ``"resume.<name>"``, covered by the same digests.
        :func:`load` ignores it; :func:`load_with_resume` returns it.

    Raises
    ------
    TypeError
        If ``obj`` does not implement the persistence protocol, its class is
        not registered, its config is not JSON-serialisable or an array has a
        dtype other than float32, float64, int64, int32 or bool.
    ValueError
        If an array name is invalid or a float array contains NaN or inf.
    OSError
        If the file cannot be written.
    """
    data = _encode(obj, resume)
    atomic_write(os.fsdecode(path), data)


# --------------------------------------------------------------------------
# load
# --------------------------------------------------------------------------


def _parse_document(path: str, header: dict[str, Any]) -> dict[str, Any]:
    """Extract and validate the mlplab JSON document from the header."""
    metadata = header.get("__metadata__")
    if metadata is None or (isinstance(metadata, dict) and _METADATA_KEY not in metadata):
        raise fail(
            path,
            "the safetensors metadata has no 'mlplab' entry; this is a "
            "safetensors file but not an mlplab model",
        )
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise fail(path, "the safetensors metadata is not a string-to-string map")
    doc = parse_json(path, metadata[_METADATA_KEY], "'mlplab' metadata")
    if not isinstance(doc, dict):
        raise fail(path, "the 'mlplab' metadata is not a JSON object")

    fmt = doc.get("format")
    if fmt != FORMAT_NAME:
        raise fail(path, f"format name is {fmt!r}, expected {FORMAT_NAME!r}")
    version = doc.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise fail(path, f"format version {version!r} is not an integer")
    if version != FORMAT_VERSION:
        hint = "; upgrade mlplab to read it" if version > FORMAT_VERSION else ""
        raise fail(
            path,
            f"unsupported format version {version} (this mlplab reads version "
            f"{FORMAT_VERSION}){hint}",
        )
    class_name = doc.get("class")
    if not isinstance(class_name, str):
        raise fail(path, f"class name {class_name!r} is not a string")
    if class_name not in _REGISTRY:
        raise fail(
            path,
            f"unknown class {class_name!r}; known classes: {_known_classes()}",
        )
    if not isinstance(doc.get("config"), dict):
        raise fail(path, "the 'config' entry is missing or not a JSON object")
    digest = doc.get("config_sha256")
    if not (isinstance(digest, str) and _HEX_DIGEST.fullmatch(digest)):
        raise fail(path, "the 'config_sha256' entry is missing or malformed")
    manifest = doc.get("arrays")
    if not isinstance(manifest, dict):
        raise fail(path, "the 'arrays' manifest is missing or not a JSON object")
    for name, entry in manifest.items():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("sha256"), str)
            and _HEX_DIGEST.fullmatch(entry["sha256"])
            and isinstance(entry.get("dtype"), str)
            and isinstance(entry.get("shape"), list)
        ):
            raise fail(
                path,
                f"manifest entry for array {name!r} needs a dtype, a shape and "
                "a 64-digit lowercase hex sha256",
            )
    return doc


def _check_manifest(
    path: str,
    manifest: dict[str, Any],
    tensors: dict[str, tuple[np.dtype[Any], tuple[int, ...]]],
) -> None:
    missing = sorted(set(manifest) - set(tensors))
    if missing:
        raise fail(
            path,
            f"array(s) {', '.join(map(repr, missing))} listed in the manifest "
            "are missing from the file",
        )
    extra = sorted(set(tensors) - set(manifest))
    if extra:
        raise fail(
            path,
            f"array(s) {', '.join(map(repr, extra))} in the file are not listed in the manifest",
        )
    for name in sorted(manifest):
        dtype, shape = tensors[name]
        entry = manifest[name]
        if entry["dtype"] != dtype.name or entry["shape"] != list(shape):
            raise fail(
                path,
                f"array {name!r}: the manifest says {entry['dtype']} with shape "
                f"{entry['shape']}, the file stores {dtype.name} with shape "
                f"{list(shape)}",
            )


def load(path: str | os.PathLike[str]) -> Any:
    """Load an object saved with :func:`save`.

    The file is validated before anything is rebuilt: header size and
    structure, the mlplab manifest, format name and version, the registered
    class, array names, dtypes and shapes, SHA-256 digests of every array and
    of the config, and finiteness of float arrays. No code from the file is
    executed and pickle is never used.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.

    Returns
    -------
    object
        The result of ``cls.__mlplab_restore__(config, arrays)`` for the
        registered class named in the file; the arrays it receives are
        writable numpy arrays.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFormatError
        If the file is not a valid mlplab model: a directory, empty,
        truncated, a pickle/joblib/npz/npy file, an invalid safetensors
        header, missing or wrong mlplab metadata, an unsupported format
        version, an unknown class, manifest/array mismatches, an unsupported
        dtype, NaN or inf in a float array, or a config the class refuses.
    IntegrityError
        If an array or the config does not match its recorded SHA-256 digest.
    """
    return _load(os.fsdecode(path))[0]


def load_with_resume(
    path: str | os.PathLike[str],
) -> tuple[Any, dict[str, Any], dict[str, np.ndarray]]:
    """Load an object and the resume state saved beside it (``save(..., resume=)``).

    Validated as :func:`load` does. Returns ``(object, resume config, resume
    arrays)``; a file without a resume state is a :class:`ModelFormatError`.
    """
    path_str = os.fsdecode(path)
    obj, resume_config, resume_arrays = _load(path_str)
    if resume_config is None:
        raise fail(
            path_str,
            "it holds no training state to resume from: it is a model file saved by "
            "mlplab.save, not a checkpoint written by mlplab.ModelCheckpoint",
        )
    return obj, resume_config, resume_arrays


def _load(path_str: str) -> tuple[Any, dict[str, Any] | None, dict[str, np.ndarray]]:
    """The object of a validated file, its resume config (None if absent) and arrays."""
    header, blob = read_file(path_str)
    data_len = len(blob) - 8 - int.from_bytes(blob[:8], "little")
    doc = _parse_document(path_str, header)
    tensors = check_tensors(path_str, header, data_len)
    manifest: dict[str, Any] = doc["arrays"]
    _check_manifest(path_str, manifest, tensors)

    arrays = deserialize(path_str, blob)
    del blob  # the arrays own copies; keep peak memory near twice the file size
    if set(arrays) != set(tensors):
        raise fail(path_str, "safetensors returned a different set of arrays")

    config = doc["config"]
    if not hmac.compare_digest(_sha256(_canonical_json(config)), doc["config_sha256"]):
        raise fail(
            path_str,
            "SHA-256 mismatch for the config; the file is corrupted or was modified",
            IntegrityError,
        )
    restored = _verified_arrays(path_str, arrays, tensors, manifest)
    config = dict(config)
    resume_config = config.pop(_RESUME, None)
    if resume_config is not None and not isinstance(resume_config, dict):
        raise fail(path_str, "the 'resume' entry of the config is not a JSON object")
    prefix = f"{_RESUME}."
    resume_arrays = {k[len(prefix) :]: v for k, v in restored.items() if k.startswith(prefix)}
    restored = {k: v for k, v in restored.items() if not k.startswith(prefix)}
    obj = _restore(path_str, _REGISTRY[doc["class"]], config, restored)
    return obj, resume_config, resume_arrays


def _verified_arrays(
    path: str,
    arrays: dict[str, np.ndarray],
    tensors: dict[str, tuple[np.dtype[Any], tuple[int, ...]]],
    manifest: dict[str, Any],
) -> dict[str, np.ndarray]:
    """The decoded arrays, each checked against its header entry, its recorded
    SHA-256 digest and (float arrays) finiteness; native byte order, writable."""
    restored: dict[str, np.ndarray] = {}
    for name in sorted(arrays):
        arr = arrays[name]
        dtype, shape = tensors[name]
        if arr.dtype.name != dtype.name or arr.shape != shape:
            raise fail(path, f"array {name!r} decoded with an unexpected layout")
        digest = _sha256(np.asarray(arr, dtype=dtype, order="C"))
        if not hmac.compare_digest(digest, manifest[name]["sha256"]):
            raise fail(
                path,
                f"SHA-256 mismatch for array {name!r}; the file is corrupted or was modified",
                IntegrityError,
            )
        if arr.dtype.kind == "f":
            bad = arr.size - int(np.count_nonzero(np.isfinite(arr)))
            if bad:
                raise fail(path, f"array {name!r} contains {bad} NaN or inf value(s)")
        arr = np.asarray(arr, dtype=arr.dtype.newbyteorder("="), order="C")
        if not arr.flags.writeable:
            arr = arr.copy()
        restored[name] = arr
    return restored


def _restore(path: str, cls: type, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
    """``cls.__mlplab_restore__(config, arrays)``; a refusal is a ModelFormatError."""
    try:
        return cls.__mlplab_restore__(config, arrays)  # type: ignore[attr-defined]
    except Exception as exc:
        raise fail(
            path,
            f"{cls.__name__}.__mlplab_restore__ rejected the stored config and "
            f"arrays ({type(exc).__name__}: {exc})",
        ) from exc


def jsonable(v: Any) -> Any:
    """A numpy scalar as the Python number JSON can hold (anything else unchanged)."""
    if isinstance(v, (np.floating, float)):
        return float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    return v


_NUMBER_TAG = "$number"
_TAGGED_DTYPES = frozenset(
    ["float", "float16", "float32", "float64", "int8", "int16", "int32", "int64",
     "uint8", "uint16", "uint32", "uint64"]
)  # fmt: skip


def json_tree(v: Any, typed: bool = False) -> Any:
    """A nested structure of lists, tuples, dicts and numbers as JSON holds it.

    NaN/inf (which a model file's JSON refuses) become ``{"$number": "float",
    "value": "nan"}``. Numpy scalars become Python numbers, or with ``typed=True``
    keep their type as ``{"$number": "float32", "value": 0.5}`` (a checkpoint's
    float32 loss must come back a float32). :func:`from_json_tree` turns them back.
    """
    if isinstance(v, dict):
        return {str(k): json_tree(x, typed) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_tree(x, typed) for x in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    tag = v.dtype.name if typed and isinstance(v, (np.floating, np.integer)) else "float"
    v = jsonable(v)
    if isinstance(v, float) and not math.isfinite(v):
        return {_NUMBER_TAG: tag, "value": repr(v)}  # "nan", "inf", "-inf"
    return v if tag == "float" else {_NUMBER_TAG: tag, "value": v}


def from_json_tree(v: Any) -> Any:
    """The inverse of :func:`json_tree` (lists stay lists)."""
    if isinstance(v, dict):
        if set(v) == {_NUMBER_TAG, "value"} and v[_NUMBER_TAG] in _TAGGED_DTYPES:
            value = v["value"]
            if value in ("nan", "inf", "-inf"):
                value = float(value)
            elif type(value) not in (int, float):
                raise ModelFormatError(f"a tagged number holds {value!r}")
            return (
                float(value) if v[_NUMBER_TAG] == "float" else np.dtype(v[_NUMBER_TAG]).type(value)
            )
        return {k: from_json_tree(x) for k, x in v.items()}
    if isinstance(v, list):
        return [from_json_tree(x) for x in v]
    return v
