"""``gradient_flow(model, x, y)``: how the loss gradient flows back through time in every
recurrent layer.

    flow = gradient_flow(model, x, y)
    flow.state_grad_norm["lstm"]       # (T,) batch mean of ‖∂L/∂h_t‖₂
    flow.cell_grad_norm["lstm"]        # (T,) the same for the LSTM cell state c_t
    flow.jacobian_norm["lstm"]         # (T,) batch mean of ‖∂h_T/∂h_t‖_F
    flow.param_grad_norm["layers.0.cell.weight_hh"]
    flow.plot()                        # a matplotlib figure, log scale

What is computed (all in float64, whatever the model's dtype, on a copy of the model: the model,
its weights, its random-draw counters and the global seed stream are left untouched):

- ``L`` is the model's compiled loss on ``(x, y)`` (its loss weights included, masked steps not
  counted), in inference mode (no dropout, no random draws).
- ``∂L/∂h_t`` is the total derivative of ``L`` with respect to the hidden state the layer's cell
  computes at step ``t``, through every later step, the outputs and the layers above. By default
  it is the full-sequence gradient (full BPTT), also for layers with ``truncate_gradient``;
  ``truncated=True`` gives the truncated gradient training uses (the layers above the layer are
  then also differentiated as they train).
- Keys: the layer's name (``"lstm"``); a stack of cells in one layer: ``"<name>/cells.<i>"``;
  ``Bidirectional``: ``"<name>/forward_layer"`` and ``"<name>/backward_layer"``; other wrappers:
  the path of the wrapped layer. A layer called more than once: ``"<key>#<call>"`` from the
  second call on.
- Arrays are indexed by time step ``t`` (position in the input, also for ``go_backwards``). The
  batch mean at step ``t`` is over the samples whose step ``t`` is valid (not masked); NaN where
  none is.
- ``jacobian_norm``: ``‖∂h_L/∂h_t‖_F`` with ``h_L`` the state after each sample's last valid step,
  within the layer's own recurrence (for LSTM with ``c_t`` held fixed: ``h_t``'s own path). It
  costs one backward sweep per unit, so it uses the first ``jacobian_samples`` samples (16 by
  default; ``None``: all).
- ``param_grad_norm``: ``‖∂L/∂θ‖₂`` for every parameter, by the model's parameter names
  (``"<layer>/<param>"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _copy, _sweep

Array = np.ndarray


@dataclass
class GradientFlow:
    """The numbers ``gradient_flow`` measured (see the module docstring)."""

    loss: float
    state_grad_norm: dict[str, Array] = field(default_factory=dict)
    cell_grad_norm: dict[str, Array] = field(default_factory=dict)
    jacobian_norm: dict[str, Array] = field(default_factory=dict)
    param_grad_norm: dict[str, float] = field(default_factory=dict)
    truncated: bool = False
    cells: dict[str, str] = field(default_factory=dict)  # key -> cell class name

    def grad_ratio(self, key: str) -> float:
        """``‖∂L/∂h_1‖ / ‖∂L/∂h_T‖`` (first over last step) for layer ``key``."""
        g = self.state_grad_norm[key]
        return float(g[0] / g[-1]) if g[-1] > 0 else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: lists of floats (NaN as None)."""
        def arr(a: Array) -> list[float | None]:
            return [None if not np.isfinite(v) else float(v) for v in a]

        return {"loss": self.loss, "truncated": self.truncated,
                "state_grad_norm": {k: arr(v) for k, v in self.state_grad_norm.items()},
                "cell_grad_norm": {k: arr(v) for k, v in self.cell_grad_norm.items()},
                "jacobian_norm": {k: arr(v) for k, v in self.jacobian_norm.items()},
                "param_grad_norm": dict(self.param_grad_norm)}

    def rows(self) -> list[dict[str, Any]]:
        """One row per (quantity, layer, step): for a CSV file."""
        out = []
        for what in ("state_grad_norm", "cell_grad_norm", "jacobian_norm"):
            for key, values in getattr(self, what).items():
                out += [{"quantity": what, "layer": key, "t": t, "value": float(v)}
                        for t, v in enumerate(values)]
        return out

    def plot(self, title: str = "gradient flow through time") -> Any:
        from .plots import flow_figure

        return flow_figure(self, title)


def gradient_flow(model: Any, x: Any, y: Any, *, truncated: bool = False,
                  jacobian: bool = True, jacobian_samples: int | None = 16) -> GradientFlow:
    """Measure the gradient flow of ``model`` on one batch ``(x, y)`` (see the module
    docstring). ``jacobian=False`` skips the state Jacobians (the costly part)."""
    if not getattr(model, "compiled", False):
        raise ValueError("gradient_flow needs a compiled model (its loss defines L): call "
                         "model.compile(optimizer=..., loss=...) first")
    if jacobian_samples is not None and (isinstance(jacobian_samples, bool) or int(
            jacobian_samples) < 1):
        raise ValueError(f"jacobian_samples must be a positive number or None, got "
                         f"{jacobian_samples!r}")
    clone = _copy.float64_copy(model, full_bptt=not truncated)
    if not _copy.recurrent_layers(clone):
        raise ValueError(f"model {model.name!r} has no recurrent layer to diagnose")
    rec = _copy.record_calls(clone)
    try:
        xs, ys = clone._prepare(x, y)
        outs, out_masks, cache = clone.forward(xs, training=False)
        total, d_outs = 0.0, []
        for loss, w, yt, o, m in zip(clone.loss_objects, clone.loss_weights, ys, outs, out_masks):
            value, g = loss.value_and_grad(yt, o, mask=m)
            total += w * float(value)
            d_outs.append(g * w)
        clone.zero_grad()
        clone.backward(d_outs, cache)
        result = GradientFlow(loss=total, truncated=truncated)
        for name, g in clone.named_grads():
            result.param_grad_norm[name] = float(np.linalg.norm(g))
        layers = dict(_copy.recurrent_layers(clone))
        for path, calls in rec.calls.items():
            for k, call in enumerate(calls):
                key = path if k == 0 else f"{path}#{k}"
                _layer_flow(result, key, layers[path], call, truncated, jacobian, jacobian_samples)
    finally:
        _copy.release(clone, rec)
    return result


def _layer_flow(result: GradientFlow, key: str, layer: Any, call: _copy.Call, truncated: bool,
                jacobian: bool, samples: int | None) -> None:
    runs = _sweep.run_layer(layer, call.x, call.mask, call.initial)
    d_seq, d_final = _output_grads(layer, call, runs)
    names = [key] if len(runs) == 1 else [f"{key}/cells.{i}" for i in range(len(runs))]
    truncate = layer.truncate_gradient if truncated else -1
    k = len(layer.state_sizes)
    for i in range(len(runs) - 1, -1, -1):
        run = runs[i]
        n = len(run.cell.state_size)
        k -= n
        dh, dc, dX = _sweep.state_gradients(run, d_seq, tuple(d_final[k:k + n]), truncate)
        valid = call.mask
        result.cells[names[i]] = type(run.cell).__name__
        result.state_grad_norm[names[i]] = _batch_mean(np.linalg.norm(dh, axis=-1), valid)
        if dc is not None:
            result.cell_grad_norm[names[i]] = _batch_mean(np.linalg.norm(dc, axis=-1), valid)
        d_seq = dX
    if not jacobian:
        return
    sub = slice(None) if samples is None else slice(0, int(samples))
    sub_runs = _sweep.run_layer(layer, call.x[sub], None if call.mask is None else call.mask[sub],
                                [s[sub] for s in call.initial])
    for name, run in zip(names, sub_runs):
        norms = _sweep.state_jacobian_norms(run)
        result.jacobian_norm[name] = _batch_mean(norms, run.mask)


def _output_grads(layer: Any, call: _copy.Call, runs: list[_sweep.CellRun]
                  ) -> tuple[Array, list[Array]]:
    """The gradients of the last cell's outputs ``(N, T, H)`` (time order) and of every final
    state, from the layer's output gradient (zeros where none reached it)."""
    N, T = call.x.shape[:2]
    H = runs[-1].cell.output_size
    d = call.d_outputs
    if layer.return_state:
        d_out, d_states = (d[0], list(d[1:])) if d is not None else (None, [])
    else:
        d_out, d_states = d, []
    d_states += [None] * (len(layer.state_sizes) - len(d_states))
    d_seq = np.zeros((N, T, H))
    if d_out is not None:
        g = np.asarray(d_out, dtype=np.float64)
        if layer.return_sequences:
            d_seq[:] = g[:, ::-1] if layer.go_backwards else g    # processing -> time order
        else:
            d_seq[:, 0 if layer.go_backwards else T - 1] = g
    finals = [np.zeros((N, s)) if g is None else np.asarray(g, dtype=np.float64)
              for g, s in zip(d_states, layer.state_sizes)]
    return d_seq, finals


def _batch_mean(values: Array, valid: Array | None) -> Array:
    """Mean over samples of ``values (N, T)`` at each step, counting valid steps only."""
    if valid is None:
        return values.mean(axis=0)
    count = valid.sum(axis=0)
    total = np.where(valid, values, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)
