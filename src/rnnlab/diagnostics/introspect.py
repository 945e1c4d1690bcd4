"""``introspect(model, x)``: what every recurrent layer's gates and states do, step by step.

    seen = introspect(model, x)
    seen.gates["lstm"]["f"]        # (N, T, H) forget-gate activations (LSTM: i, f, g, o;
                                   #            GRU: r, z, n)
    seen.hidden["lstm"]            # (N, T, H) hidden state after each step
    seen.cell["lstm"]              # (N, T, H) LSTM cell state
    seen.saturation["lstm"]["f"]   # share of forget-gate values < 0.05 or > 0.95
    seen.heatmap("lstm", text, units=[3, 17])   # chosen units over the characters of a text

The gate values and states are those the layer's own sweep computes (``RNN.trace``: the
compiled or the reference sweep, whichever the layer runs on), replayed on a float64 copy of the
model in inference mode: the model, its weights and its random-draw counters are untouched.
Keys and time indexing are those of ``gradient_flow``. The states are the carried ones (a masked
step keeps the previous state); gates at masked steps are left out of the saturation shares.
Saturation of a sigmoid gate: below 0.05 or above 0.95; of a tanh-valued candidate (LSTM ``g``,
GRU ``n``): ``|v| > 0.95``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _copy

Array = np.ndarray
TANH_VALUED = ("g", "n")


@dataclass
class Introspection:
    gates: dict[str, dict[str, Array]] = field(default_factory=dict)
    hidden: dict[str, Array] = field(default_factory=dict)
    cell: dict[str, Array] = field(default_factory=dict)
    saturation: dict[str, dict[str, float]] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)

    def plot(self, title: str = "gates and states") -> Any:
        from .plots_gates import gates_figure

        return gates_figure(self, title)

    def heatmap(self, key: str, text: str, units: list[int] | None = None,
                sample: int = 0, columns: int = 80) -> Any:
        """The hidden-state values of ``units`` (default: the 4 with the largest variance) of
        layer ``key`` over the characters of ``text`` (sample ``sample`` of ``x``, one character
        per step), red positive and blue negative."""
        from .plots_gates import text_heatmap

        h = self.hidden[key][sample]
        if units is None:
            units = [int(u) for u in np.argsort(-h.var(axis=0))[:4]]
        bad = [u for u in units if not 0 <= u < h.shape[1]]
        if bad:
            raise ValueError(f"units {bad} out of range: {key} has {h.shape[1]} units")
        return text_heatmap(text[:h.shape[0]], h[:len(text), units], units, key, columns)


def saturated(name: str, values: Array) -> Array:
    """Boolean array: which gate values are saturated (see the module docstring)."""
    if name in TANH_VALUED:
        return np.abs(values) > 0.95
    return (values < 0.05) | (values > 0.95)


def introspect(model: Any, x: Any) -> Introspection:
    """Gate activations, states and saturation shares of every recurrent layer on ``x``."""
    clone = _copy.float64_copy(model)
    if not _copy.recurrent_layers(clone):
        raise ValueError(f"model {model.name!r} has no recurrent layer to introspect")
    rec = _copy.record_calls(clone)
    try:
        xs = clone._standardize_x(clone._as_inputs(x))
        clone.forward(xs, training=False)
        layers = dict(_copy.recurrent_layers(clone))
        out = Introspection()
        for path, calls in rec.calls.items():
            for k, call in enumerate(calls):
                key = path if k == 0 else f"{path}#{k}"
                layer = layers[path]
                traces = layer.trace(call.x, mask=call.mask, initial_state=call.initial)
                names = [key] if len(traces) == 1 else [f"{key}/cells.{i}"
                                                        for i in range(len(traces))]
                for name, cell, trace in zip(names, layer.cells, traces):
                    _collect(out, name, cell, trace, call.mask)
    finally:
        _copy.release(clone, rec)
    return out


def _collect(out: Introspection, name: str, cell: Any, trace: dict[str, Array],
             mask: Array | None) -> None:
    N, T = trace["output"].shape[:2]
    out.cells[name] = type(cell).__name__
    gates = trace.get("gates")
    out.gates[name] = {} if gates is None else dict(
        zip(cell.gate_names, np.split(gates, len(cell.gate_names), axis=-1)))
    out.hidden[name] = trace["state0"]
    if "state1" in trace:
        out.cell[name] = trace["state1"]
    valid = np.ones((N, T), bool) if mask is None else mask
    out.saturation[name] = {g: float(saturated(g, v)[valid].mean()) if valid.any() else
                            float("nan") for g, v in out.gates[name].items()}
