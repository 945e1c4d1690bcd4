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
  then also differentiated as they train). It is what the layer's own backward sweep computed
  on the way (``RNN.backward_with_state_grads``, compiled or reference, whichever the layer
  runs on), during the copy's one backward pass.
- Keys: the layer's name (``"lstm"``); a stack of cells in one layer: ``"<name>/cells.<i>"``;
  ``Bidirectional``: ``"<name>/forward_layer"`` and ``"<name>/backward_layer"``; other wrappers:
  the path of the wrapped layer. A layer called more than once: ``"<key>#<call>"`` from the
  second call on.
- Arrays are indexed by time step ``t`` (position in the input, also for ``go_backwards``). The
  batch mean at step ``t`` is over the samples whose step ``t`` is valid (not masked); NaN where
  none is.
- ``jacobian_norm``: ``‖∂h_L/∂h_t‖_F`` with ``h_L`` the state after each sample's last valid step,
  within the layer's own recurrence (for LSTM with ``c_t`` held fixed: ``h_t``'s own path). It
  costs one backward sweep of the cell per unit (``state_jacobian_norms``), so it uses the first
  ``jacobian_samples`` samples (16 by default; ``None``: all).
- ``param_grad_norm``: ``‖∂L/∂θ‖₂`` for every parameter, by the model's parameter names
  (``"<layer>/<param>"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _copy

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
    layers = dict(_copy.recurrent_layers(clone))
    with _copy.state_grads_engine(clone):
        rec = _copy.record_calls(clone)
        try:
            xs, ys = clone._prepare(x, y)
            outs, out_masks, cache = clone.forward(xs, training=False)
            total, d_outs = 0.0, []
            for loss, w, yt, o, m in zip(clone.loss_objects, clone.loss_weights, ys, outs,
                                         out_masks):
                value, g = loss.value_and_grad(yt, o, mask=m)
                total += w * float(value)
                d_outs.append(g * w)
            clone.zero_grad()
            clone.backward(d_outs, cache)
            result = GradientFlow(loss=total, truncated=truncated)
            for name, g in clone.named_grads():
                result.param_grad_norm[name] = float(np.linalg.norm(g))
            for path, calls in rec.calls.items():
                for call in calls:
                    if call.state_grads is None:  # no gradient reached the layer: zeros
                        _, call.state_grads = layers[path].backward_with_state_grads(
                            None, call.cache, need_dx=False)
        finally:
            _copy.release(clone, rec)
        for path, calls in rec.calls.items():
            for k, call in enumerate(calls):
                key = path if k == 0 else f"{path}#{k}"
                _layer_flow(result, key, layers[path], call, jacobian, jacobian_samples)
    return result


def _layer_flow(result: GradientFlow, key: str, layer: Any, call: _copy.Call, jacobian: bool,
                samples: int | None) -> None:
    """The numbers of one call: state (and cell-state) gradient norms from the per-step state
    gradients the layer's own backward handed back, and the state Jacobian norms."""
    assert call.state_grads is not None
    names = [key] if len(layer.cells) == 1 else [f"{key}/cells.{i}"
                                                 for i in range(len(layer.cells))]
    for name, cell, grads in zip(names, layer.cells, call.state_grads):
        result.cells[name] = type(cell).__name__
        result.state_grad_norm[name] = _batch_mean(np.linalg.norm(grads[0], axis=-1), call.mask)
        if len(grads) > 1:
            result.cell_grad_norm[name] = _batch_mean(np.linalg.norm(grads[1], axis=-1),
                                                      call.mask)
    if not jacobian:
        return
    sub = slice(None) if samples is None else slice(0, int(samples))
    mask = None if call.mask is None else call.mask[sub]
    for name, norms in zip(names, state_jacobian_norms(layer, call.x[sub], mask,
                                                       [s[sub] for s in call.initial])):
        result.jacobian_norm[name] = _batch_mean(norms, mask)


def state_jacobian_norms(layer: Any, x: Array, mask: Array | None, initial: list[Array]
                         ) -> list[Array]:
    """Per cell of ``layer``: ``(N, T)``, the Frobenius norm of ``∂h_L/∂ĥ_t``, ``h_L`` the
    cell's hidden state after each sample's last valid step (= its final state: masked steps
    carry it), within the cell's own recurrence. The layer's own forward on ``x``, then per
    unit of ``h_L`` one backward sweep of the cell from that unit of its final state
    (``RNN.cell_state_grads``, full BPTT): row j of every sample's Jacobian at once."""
    _, cache = layer.forward(x, training=False, mask=mask, initial_state=initial)
    out = []
    for i, cell in enumerate(layer.cells):
        sq = np.zeros(x.shape[:2])
        for j in range(cell.state_size[0]):
            d_final = [np.zeros((x.shape[0], s)) for s in cell.state_size]
            d_final[0][:, j] = 1.0
            sq += (layer.cell_state_grads(cache, i, d_final)[0] ** 2).sum(axis=-1)
        out.append(np.sqrt(sq))
    return out


def _batch_mean(values: Array, valid: Array | None) -> Array:
    """Mean over samples of ``values (N, T)`` at each step, counting valid steps only."""
    if valid is None:
        return values.mean(axis=0)
    count = valid.sum(axis=0)
    total = np.where(valid, values, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)
