"""Finite-difference gradient checks, public so users verify their own cells and layers.

The scalar checked is a random projection of every output, ``L = Σ_k Σ G_k ⊙ y_k`` with fixed
random ``G_k``, so ``dL/dy_k = G_k`` (stronger than an all-ones upstream gradient). Numerical
derivatives are central differences ``(L(θ+ε) − L(θ−ε)) / 2ε`` in float64. The error reported for
each array is ``max|analytic − numeric| / max(|analytic|_max, |numeric|_max, 1e-12)``.

    from rnnlab.gradcheck import check_layer, check_cell
    report = check_layer(layer, x)           # every parameter, the inputs and initial states
    assert report.max_error < 1e-7, report
    print(report)                            # one row per array: worst error and where

The report reads as a table: for every parameter (PyTorch names), input and initial state, the
worst relative error, the index where the analytic and numerical gradients differ most and both
values there; ``report.worst`` names the array with the largest error.

Random layers (dropout) are checked with a fixed mask: the layer's ``rng_calls`` counter is reset
before every evaluation, so each draws the same masks.

The checks run on the reference engine (``engine="reference"``, the default), so a cell's own
``step_backward`` is what is checked; ``check_compiled`` then compares a cell's compiled sweep
with that reference (outputs, states and every gradient).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Array = np.ndarray


def numerical_gradient(f: Callable[[], float], x: Array, eps: float = 1e-6) -> Array:
    """Central-difference gradient of ``f()`` with respect to the array ``x`` (changed in place
    and restored)."""
    grad = np.zeros_like(x, dtype=np.float64)
    flat = x.reshape(-1)
    gflat = grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f()
        flat[i] = old - eps
        down = f()
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad


def relative_error(a: Array, b: Array) -> float:
    scale = max(float(np.abs(a).max(initial=0)), float(np.abs(b).max(initial=0)), 1e-12)
    return float(np.abs(a - b).max(initial=0)) / scale


@dataclass(frozen=True)
class Mismatch:
    """Where one array's analytic and numerical gradients differ most."""

    index: tuple[int, ...]
    analytic: float
    numeric: float


@dataclass
class GradcheckReport:
    errors: dict[str, float] = field(default_factory=dict)
    where: dict[str, Mismatch] = field(default_factory=dict)

    @property
    def max_error(self) -> float:
        return max(self.errors.values(), default=0.0)

    @property
    def worst(self) -> str | None:
        """The name of the array with the largest relative error (None: nothing checked)."""
        return max(self.errors, key=self.errors.__getitem__) if self.errors else None

    def add(self, name: str, analytic: Array, numeric: Array) -> None:
        """Compare one array's gradients and record the error and where it is largest."""
        analytic, numeric = np.asarray(analytic), np.asarray(numeric)
        self.errors[name] = relative_error(analytic, numeric)
        if analytic.size:
            flat = int(np.argmax(np.abs(analytic - numeric)))
            index = tuple(int(i) for i in np.unravel_index(flat, analytic.shape))
            self.where[name] = Mismatch(index, float(analytic[index]), float(numeric[index]))

    def __str__(self) -> str:
        names = sorted(self.errors)
        width = max([len(n) for n in names] + [9])
        head = (f"  {'parameter':<{width}}  {'rel. error':>10}  {'at index':<14}"
                f"  {'analytic':>12}  {'numeric':>12}")
        rows = [head]
        for name in names:
            m = self.where.get(name)
            at = str(m.index) if m else "-"
            values = f"  {m.analytic:>12.5e}  {m.numeric:>12.5e}" if m else ""
            rows.append(f"  {name:<{width}}  {self.errors[name]:>10.3e}  {at:<14}{values}")
        status = f"worst: {self.worst} ({self.max_error:.3e})" if self.errors else "nothing checked"
        return ("gradient check (relative error = max|analytic - numeric| / max|gradient|; "
                f"{status})\n" + "\n".join(rows))


def _flat(outputs: Any) -> list[Array]:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def check_layer(layer: Any, inputs: Any, *, initial_state: list[Array] | None = None,
                mask: Array | None = None, training: bool = False, seed: int = 0,
                eps: float = 1e-6, check_inputs: bool = True,
                engine: str = "reference") -> GradcheckReport:
    """Compare ``layer.backward`` with central differences for every parameter, each float
    input array and each initial state, on ``engine`` (``rnnlab.engine``). The layer must be
    float64."""
    from .kernels import use_engine

    with use_engine(engine):
        return _check_layer(layer, inputs, initial_state, mask, training, seed, eps,
                            check_inputs)


def _check_layer(layer: Any, inputs: Any, initial_state: list[Array] | None,
                 mask: Array | None, training: bool, seed: int, eps: float,
                 check_inputs: bool) -> GradcheckReport:
    rng = np.random.default_rng([seed, 1])  # a stream of its own, unlike the test inputs'
    call_kwargs: dict[str, Any] = {"training": training, "mask": mask}
    if initial_state is not None:
        initial_state = [np.array(s, dtype=np.float64) for s in initial_state]
        call_kwargs["initial_state"] = initial_state
    inputs = [np.array(v) for v in inputs] if isinstance(inputs, (list, tuple)) else np.array(
        inputs)
    start_calls = getattr(layer, "rng_calls", 0)
    layer(inputs, **call_kwargs)  # builds the layer
    out0, _ = _run(layer, inputs, call_kwargs, start_calls)
    G = [rng.standard_normal(np.shape(o)) for o in _flat(out0)]

    def loss() -> float:
        out, _ = _run(layer, inputs, call_kwargs, start_calls)
        return float(sum(np.sum(g * o) for g, o in zip(G, _flat(out))))

    layer.zero_grad()
    out, cache = _run(layer, inputs, call_kwargs, start_calls)
    d_out = G if isinstance(out, (list, tuple)) else G[0]
    d_in = layer.backward(d_out, cache)
    report = GradcheckReport()
    for name, grad in layer.named_grads():
        param = dict(layer.named_params())[name]
        report.add(name, grad, numerical_gradient(loss, param, eps))
    d_flat = _flat(d_in)
    arrays = _flat(inputs)
    n_inputs = len(arrays)
    if initial_state is not None:
        arrays = arrays + initial_state
    for k, arr in enumerate(arrays):
        if k < n_inputs and (not check_inputs or arr.dtype.kind != "f"):
            continue
        label = f"input{k}" if k < n_inputs else f"initial_state{k - n_inputs}"
        report.add(label, d_flat[k], numerical_gradient(loss, arr, eps))
    return report


def _run(layer: Any, inputs: Any, kw: dict[str, Any], calls: int) -> tuple[Any, Any]:
    if hasattr(layer, "rng_calls"):
        layer.rng_calls = calls
    kwargs = {k: v for k, v in kw.items() if v is not None or k == "mask"}
    if kwargs.get("mask") is None:
        kwargs.pop("mask")
    return layer.forward(inputs, **kwargs)


def check_cell(cell: Any, input_dim: int = 3, batch: int = 2, steps: int = 4, seed: int = 0,
               eps: float = 1e-6, engine: str = "reference") -> GradcheckReport:
    """Run ``cell`` with the generic ``RNN`` layer (float64, sequences returned) and check every
    parameter, the inputs and the initial states (on the reference engine: the cell's own
    ``step_backward``)."""
    from .layers.recurrent import RNN

    rng = np.random.default_rng(seed)
    layer = RNN(cell, return_sequences=True, return_state=True, dtype="float64", seed=seed)
    x = rng.standard_normal((batch, steps, input_dim))
    layer.build(x.shape)
    states = [rng.standard_normal((batch, s)) for s in layer.state_sizes]
    return check_layer(layer, x, initial_state=states, seed=seed, eps=eps, engine=engine)


def check_compiled(layer: Any, inputs: Any, *, mask: Array | None = None,
                   training: bool = False, seed: int = 0) -> GradcheckReport:
    """Compare the compiled sweep of a recurrent ``layer`` (``RNN``, ``Bidirectional`` ...) with
    the reference loop: outputs, input/initial-state gradients and every parameter gradient,
    for one forward/backward with a random upstream gradient. Errors are relative to each
    array's largest entry (float64: expect ~1e-14). Raises when the compiled engine does not
    run the layer (numba missing, or a cell without a compiled sweep)."""
    from .kernels import use_engine

    rng = np.random.default_rng([seed, 2])
    start_calls = getattr(layer, "rng_calls", 0)
    results: list[Any] = []
    for engine in ("reference", "compiled"):
        with use_engine(engine):
            kw: dict[str, Any] = {"training": training, "mask": mask}
            out, cache = _run(layer, inputs, kw, start_calls)
            ran = getattr(cache, "engine", None) or getattr(cache[0], "engine", None)
            if ran != engine:
                reason = getattr(cache, "reason", "") or getattr(cache[0], "reason", "")
                raise RuntimeError(f"{engine} engine did not run {layer.name}: {reason}")
            outs = _flat(out)
            if not results:
                G = [rng.standard_normal(np.shape(o)) for o in outs]
            layer.zero_grad()
            d_in = layer.backward(G if isinstance(out, (list, tuple)) else G[0], cache)
            results.append((outs, _flat(d_in), {k: g.copy() for k, g in layer.named_grads()}))
    report = GradcheckReport()
    (o_r, d_r, g_r), (o_c, d_c, g_c) = results
    for k, (a, b) in enumerate(zip(o_c, o_r)):
        report.errors[f"output{k}"] = relative_error(np.asarray(a), np.asarray(b))
    for k, (a, b) in enumerate(zip(d_c, d_r)):
        report.errors[f"d_input{k}"] = relative_error(np.asarray(a), np.asarray(b))
    for name in g_r:
        report.errors[name] = relative_error(g_c[name], g_r[name])
    return report
