"""The playground API's request and response bodies (pydantic), validated strictly.

The schema mirrors the Session's checks (:mod:`mlplab.web.config`); what it cannot
express (``dataset: "csv"`` before an upload, a loss that does not fit the task...) the
Session refuses with 422.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from mlplab.web.config import (
    ACTIVATION_NAMES,
    DATASETS,
    INITIALIZER_NAMES,
    LANGS,
    LIMITS,
    LOSS_NAMES,
    MAX_COORD,
    MAX_L2,
    MAX_LEARNING_RATE,
    MAX_NOISE,
    MAX_STEPS_PER_SECOND,
    MAX_WEIGHT,
    MIN_SAMPLES,
    MIN_STEPS_PER_SECOND,
    OPTIMIZER_NAMES,
)

__all__ = [
    "SESSION_ID",
    "ConfigPatch",
    "ConfigFrameOut",
    "ControlBody",
    "ControlOut",
    "CreateBody",
    "CsvBody",
    "ErrorOut",
    "FrameOut",
    "LayerSpec",
    "MetaOut",
    "PointBody",
    "SessionId",
    "SessionOut",
    "WeightBody",
    "WsConfig",
    "WsControl",
    "error_responses",
    "validation_message",
]

SESSION_ID = r"^[A-Za-z0-9_-]{1,64}$"


def _choices(names: Any) -> Any:
    return Literal.__getitem__(tuple(str(n) for n in names))


Activation = _choices(ACTIVATION_NAMES)
OutputActivation = _choices(("auto", *ACTIVATION_NAMES))
DatasetName = _choices(DATASETS)
InitName = _choices(INITIALIZER_NAMES)
OptimizerName = _choices(OPTIMIZER_NAMES)
LossName = _choices(LOSS_NAMES)
Lang = _choices(LANGS)
Finite = Annotated[float, Field(allow_inf_nan=False)]


def _integral(value: Any) -> Any:
    """JSON Schema counts 3.0 as an integer: accept it (strict mode would not)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Int = Annotated[int, BeforeValidator(_integral)]


def _drop_null_defaults(schema: dict[str, Any]) -> None:
    """Optional keys of a partial update have no default: absent means unchanged."""
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]


MIN_CLIP = 1e-8
# Bodies are validated strictly: no "3" for 3, no true for 1.0 (the schema says so too).
_STRICT = ConfigDict(extra="forbid", strict=True)
_PARTIAL = ConfigDict(extra="forbid", strict=True, json_schema_extra=_drop_null_defaults)


class LayerSpec(BaseModel):
    """One hidden layer (missing keys: 4 units, tanh, no batch norm)."""

    model_config = _PARTIAL
    units: Int = Field(None, ge=1, le=LIMITS["units"])
    activation: Activation = None
    batch_norm: bool = None


class ConfigPatch(BaseModel):
    """A partial configuration: every key optional, absent = unchanged (``GET /api/meta``
    has the defaults). Only ``clip_norm`` and ``clip_value`` (no clipping) and
    ``steps_per_second`` (full speed) may be null.

    The schema mirrors the Session's checks; what it cannot express (``dataset: "csv"``
    before an upload, a loss that does not fit the task...) the Session refuses with 422.
    """

    model_config = _PARTIAL
    dataset: DatasetName = None
    noise: Finite = Field(None, ge=0, le=MAX_NOISE)
    n_samples: Int = Field(None, ge=MIN_SAMPLES, le=LIMITS["n_samples"])
    test_fraction: Finite = Field(None, ge=0, le=0.9)
    layers: list[LayerSpec] = Field(None, max_length=LIMITS["hidden_layers"])
    output_activation: OutputActivation = None
    init: InitName = None
    optimizer: OptimizerName = None
    learning_rate: Finite = Field(None, gt=0, le=MAX_LEARNING_RATE)
    batch_size: Int = Field(None, ge=1, le=LIMITS["n_samples"])
    l2: Finite = Field(None, ge=0, le=MAX_L2)
    # >= 1e-8 (config.py accepts any positive value): below that the clipped gradient's
    # squares underflow and mlplab.clipping.clip_ divides by a zero norm.
    clip_norm: Finite | None = Field(None, ge=MIN_CLIP, le=1e6)
    clip_value: Finite | None = Field(None, ge=MIN_CLIP, le=1e6)
    loss: LossName = None
    seed: Int = Field(None, ge=0, le=2**32 - 1)
    lang: Lang = None
    steps_per_second: Finite | None = Field(None, ge=MIN_STEPS_PER_SECOND, le=MAX_STEPS_PER_SECOND)

    def patch(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class CreateBody(BaseModel):
    model_config = _STRICT
    config: ConfigPatch | None = None


class ControlBody(BaseModel):
    model_config = _STRICT
    action: Literal["play", "pause", "step", "reset"]
    steps: Int = Field(1, ge=1, le=LIMITS["steps_per_request"])


class PointBody(BaseModel):
    model_config = _STRICT
    x: Finite = Field(ge=-MAX_COORD, le=MAX_COORD)
    y: Finite = Field(ge=-MAX_COORD, le=MAX_COORD)
    label: Finite = 0.0


class CsvBody(BaseModel):
    model_config = _STRICT
    text: str


class WeightBody(BaseModel):
    model_config = _STRICT
    layer: Int = Field(ge=0, le=64)
    i: Int = Field(ge=-1, le=4096)
    j: Int = Field(ge=0, le=4096)
    value: Finite = Field(ge=-MAX_WEIGHT, le=MAX_WEIGHT)


class ErrorOut(BaseModel):
    detail: str


class FrameOut(BaseModel):
    frame: dict[str, Any]


class ConfigFrameOut(BaseModel):
    config: dict[str, Any]
    frame: dict[str, Any]


class SessionOut(BaseModel):
    id: str
    config: dict[str, Any]
    running: bool
    frame: dict[str, Any]


class ControlOut(BaseModel):
    running: bool
    frame: dict[str, Any]


class MetaOut(BaseModel):
    activations: list[str]
    initializers: list[str]
    optimizers: list[str]
    losses: list[str]
    datasets: dict[str, Any]
    limits: dict[str, Any]
    lang: str
    version: str


class WsControl(ControlBody):
    type: Literal["control"]


class WsConfig(BaseModel):
    model_config = _STRICT
    type: Literal["config"]
    config: ConfigPatch


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorOut} for code in (400, 401, 403, *codes)}


SessionId = Annotated[str, Path(pattern=SESSION_ID, description="session id")]


def validation_message(errors: list[Any]) -> str:
    parts = []
    for err in errors[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "path", "query"))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else err.get("msg", "invalid"))
    return "; ".join(parts) or "invalid request"
