"""Weight initialisers. Each is called as ``init(shape, rng, dtype)`` and returns a new array.

Shapes follow Keras's convention when fans are computed: for a 2-D shape ``(fan_in, fan_out)``,
e.g. a kernel ``(D, G·H)``. Recurrent layers draw their kernels in Keras's layout and convert them
to the PyTorch layout they store, so the distributions equal Keras's.

Names (as strings, or objects with arguments): ``glorot_uniform``, ``glorot_normal``,
``he_uniform``, ``he_normal``, ``lecun_uniform``, ``lecun_normal``, ``orthogonal``, ``zeros``,
``ones``, ``constant``, ``uniform`` / ``random_uniform`` (U(±0.05) by default),
``random_normal`` (N(0, 0.05²)), ``truncated_normal``, and ``torch_uniform`` (alias ``pytorch``):
PyTorch's recurrent default U(±1/√H), where H is given by ``hidden_size`` (set by the layer).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._registry import register, registered, serialize


def _fans(shape: tuple[int, ...]) -> tuple[float, float]:
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = float(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: subclasses implement ``__call__(shape, rng, dtype)``; config is their args."""

    def __call__(self, shape: tuple[int, ...], rng: np.random.Generator, dtype: str) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@register
class Zeros(Initializer):
    def __call__(self, shape, rng, dtype):
        return np.zeros(shape, dtype=dtype)


@register
class Ones(Initializer):
    def __call__(self, shape, rng, dtype):
        return np.ones(shape, dtype=dtype)


@register
class Constant(Initializer):
    def __init__(self, value: float = 0.0) -> None:
        self.value = float(value)

    def __call__(self, shape, rng, dtype):
        return np.full(shape, self.value, dtype=dtype)


@register
class RandomUniform(Initializer):
    def __init__(self, minval: float = -0.05, maxval: float = 0.05) -> None:
        if not maxval > minval:
            raise ValueError(f"RandomUniform needs minval < maxval, got {minval} and {maxval}")
        self.minval = float(minval)
        self.maxval = float(maxval)

    def __call__(self, shape, rng, dtype):
        return rng.uniform(self.minval, self.maxval, size=shape).astype(dtype)


@register
class RandomNormal(Initializer):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05) -> None:
        self.mean = float(mean)
        self.stddev = float(stddev)

    def __call__(self, shape, rng, dtype):
        return rng.normal(self.mean, self.stddev, size=shape).astype(dtype)


@register
class TruncatedNormal(Initializer):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05) -> None:
        self.mean = float(mean)
        self.stddev = float(stddev)

    def __call__(self, shape, rng, dtype):
        z = rng.standard_normal(size=shape)
        bad = np.abs(z) > 2
        while bad.any():
            z[bad] = rng.standard_normal(size=int(bad.sum()))
            bad = np.abs(z) > 2
        return (self.mean + self.stddev * z).astype(dtype)


@register
class VarianceScaling(Initializer):
    """Keras's VarianceScaling: scale / fan (fan_in, fan_out or their average)."""

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal") -> None:
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"mode must be fan_in, fan_out or fan_avg, got {mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(
                "distribution must be truncated_normal, untruncated_normal or uniform, "
                f"got {distribution!r}"
            )
        self.scale = float(scale)
        self.mode = mode
        self.distribution = distribution

    def __call__(self, shape, rng, dtype):
        fan_in, fan_out = _fans(tuple(shape))
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        var = self.scale / max(1.0, fan)
        if self.distribution == "uniform":
            lim = np.sqrt(3.0 * var)
            return rng.uniform(-lim, lim, size=shape).astype(dtype)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, np.sqrt(var), size=shape).astype(dtype)
        std = np.sqrt(var) / 0.87962566103423978  # std of N(0,1) truncated at ±2
        return TruncatedNormal(0.0, std)(shape, rng, dtype)


def _scaling(name: str, scale: float, mode: str, distribution: str) -> type[VarianceScaling]:
    def __init__(self: VarianceScaling) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution)

    def get_config(self: VarianceScaling) -> dict[str, Any]:
        return {}

    cls = type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config})
    return register(cls)


GlorotUniform = _scaling("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _scaling("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _scaling("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _scaling("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _scaling("LecunNormal", 1.0, "fan_in", "truncated_normal")


@register
class Orthogonal(Initializer):
    """Keras's Orthogonal: QR of a normal matrix; rows or columns orthonormal (whichever fit)."""

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = float(gain)

    def __call__(self, shape, rng, dtype):
        rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        cols = int(shape[-1])
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).astype(dtype)


@register
class TorchUniform(Initializer):
    """PyTorch's recurrent default: U(-1/√H, 1/√H) with H = ``hidden_size``."""

    def __init__(self, hidden_size: int | None = None) -> None:
        self.hidden_size = hidden_size

    def __call__(self, shape, rng, dtype):
        if self.hidden_size is None:
            raise ValueError("TorchUniform needs hidden_size (the recurrent layer sets it)")
        k = 1.0 / np.sqrt(self.hidden_size)
        return rng.uniform(-k, k, size=shape).astype(dtype)


_ALIASES: dict[str, type[Initializer]] = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "uniform": RandomUniform,
    "random_uniform": RandomUniform,
    "normal": RandomNormal,
    "random_normal": RandomNormal,
    "truncated_normal": TruncatedNormal,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal,
    "torch_uniform": TorchUniform,
    "pytorch": TorchUniform,
}


def names() -> list[str]:
    """Initializer names accepted as strings."""
    return sorted(_ALIASES)


def get(identifier: str | Initializer | dict[str, Any]) -> Initializer:
    """Resolve a name, an Initializer, or a serialised {"class_name", "config"} dict."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        cls = registered(identifier["class_name"])
        return cls.from_config(identifier.get("config", {}))  # type: ignore[attr-defined]
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _ALIASES:
            return _ALIASES[key]()
        try:
            cls = registered(identifier)
        except ValueError:
            cls = None
        if cls is not None and issubclass(cls, Initializer):
            return cls()
    raise ValueError(f"Unknown initializer {identifier!r}; expected one of {names()}")


def spec(identifier: str | Initializer) -> Any:
    """How an initializer argument is stored in a config: the name, or the serialised object."""
    return identifier if isinstance(identifier, str) else serialize(identifier)
