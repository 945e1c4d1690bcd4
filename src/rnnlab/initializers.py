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
    """Base class: subclasses implement ``__call__(shape, rng, dtype)``; config is their args.

    Every initializer also takes Keras's ``seed=``: a seeded initializer ignores the layer's
    generator and draws from its own seed, the same values at every call (as Keras 3's)."""

    seed: int | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init, call = cls.__dict__.get("__init__"), cls.__dict__.get("__call__")
        if init is not None and not getattr(init, "_takes_seed", False):
            def seeded_init(self: Initializer, *args: Any, seed: int | None = None,
                            **kw: Any) -> None:
                init(self, *args, **kw)
                if seed is not None:
                    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
                        raise ValueError(f"seed must be an integer or None, got {seed!r}")
                    self.seed = int(seed)

            seeded_init._takes_seed = True  # type: ignore[attr-defined]
            cls.__init__ = seeded_init  # type: ignore[method-assign]
        if call is not None and not getattr(call, "_takes_seed", False):
            def seeded_call(self: Initializer, shape: Any, rng: Any, dtype: Any) -> np.ndarray:
                if self.seed is not None:
                    rng = np.random.default_rng(self.seed)
                return call(self, shape, rng, dtype)

            seeded_call._takes_seed = True  # type: ignore[attr-defined]
            cls.__call__ = seeded_call  # type: ignore[method-assign]

    def __init__(self, seed: int | None = None) -> None:
        if seed is not None:
            self.seed = int(seed)

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
        return {} if self.seed is None else {"seed": self.seed}

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


class FunctionInitializer(Initializer):
    """A plain callable ``f(shape, dtype=None)`` used as an initializer (Keras accepts these);
    its result must have ``shape``. It cannot be saved in a model file's config."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def __call__(self, shape, rng, dtype):
        value = np.asarray(self.fn(tuple(shape), dtype=dtype), dtype=dtype)
        if value.shape != tuple(shape):
            raise ValueError(f"the initializer {self.fn!r} returned shape {value.shape}, "
                             f"expected {tuple(shape)}")
        return value

    def get_config(self) -> dict[str, Any]:
        raise TypeError(f"the initializer {self.fn!r} is a plain function and cannot be saved; "
                        "use a named initializer or an rnnlab.initializers object")


def get(identifier: str | Initializer | dict[str, Any]) -> Initializer:
    """Resolve a name, an Initializer, a serialised {"class_name", "config"} dict, or a plain
    callable ``f(shape, dtype=None)``."""
    if isinstance(identifier, Initializer):
        return identifier
    if callable(identifier) and not isinstance(identifier, type):
        return FunctionInitializer(identifier)
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
