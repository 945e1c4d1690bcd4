"""Figures of the diagnostics: one colour per cell type in every figure (``CELL_COLORS``),
log scales for gradient norms, labelled axes and one legend per figure."""

from __future__ import annotations

from typing import Any

import numpy as np

CELL_COLORS = {"SimpleRNNCell": "#1f77b4", "LSTMCell": "#d62728", "GRUCell": "#2ca02c"}
CELL_LABELS = {"SimpleRNNCell": "SimpleRNN", "LSTMCell": "LSTM", "GRUCell": "GRU"}
GATE_COLORS = {"i": "#9467bd", "f": "#8c564b", "g": "#e377c2", "o": "#7f7f7f",
               "r": "#bcbd22", "z": "#17becf", "n": "#ff7f0e"}
_STYLES = ("-", "--", ":", "-.")


def plt() -> Any:
    from ..experiments.plots import _plt

    return _plt()


def cell_color(cell: str, index: int = 0) -> str:
    return CELL_COLORS.get(cell, f"C{3 + index % 7}")


def _positive(values: Any) -> np.ndarray:
    """Values for a log axis: zeros and NaN become gaps."""
    a = np.asarray(values, dtype=float)
    return np.where(a > 0, a, np.nan)


def flow_figure(flow: Any, title: str) -> Any:
    """State-gradient norms (and LSTM cell-state ones, dashed), state Jacobian norms over t, and
    the parameter gradient norms."""
    p = plt()
    panels = 3 if flow.jacobian_norm else 2
    fig, axes = p.subplots(1, panels, figsize=(5.2 * panels, 4))
    ax = axes[0]
    for k, (key, values) in enumerate(flow.state_grad_norm.items()):
        color = cell_color(flow.cells.get(key, ""), k)
        style = _STYLES[k % len(_STYLES)] if len(flow.state_grad_norm) > 1 else "-"
        ax.plot(np.arange(1, len(values) + 1), _positive(values), color=color, ls=style,
                lw=1.5, label=f"{key}: ‖∂L/∂h_t‖")
        if key in flow.cell_grad_norm:
            ax.plot(np.arange(1, len(values) + 1), _positive(flow.cell_grad_norm[key]),
                    color=color, ls=style, lw=0.9, alpha=0.6, label=f"{key}: ‖∂L/∂c_t‖")
    ax.set_yscale("log")
    ax.set_xlabel("time step t")
    ax.set_ylabel("batch mean of the gradient norm")
    ax.set_title("loss gradient w.r.t. the states" + (" (truncated BPTT)" if flow.truncated
                                                       else " (full BPTT)"))
    ax.grid(alpha=0.3, which="both")
    if flow.jacobian_norm:
        ax = axes[1]
        for k, (key, values) in enumerate(flow.jacobian_norm.items()):
            color = cell_color(flow.cells.get(key, ""), k)
            style = _STYLES[k % len(_STYLES)] if len(flow.jacobian_norm) > 1 else "-"
            ax.plot(np.arange(1, len(values) + 1), _positive(values), color=color, ls=style,
                    lw=1.5)
        ax.set_yscale("log")
        ax.set_xlabel("time step t")
        ax.set_ylabel("‖∂h_T/∂h_t‖_F (batch mean)")
        ax.set_title("state Jacobian: memory of step t at the end")
        ax.grid(alpha=0.3, which="both")
    ax = axes[-1]
    names = list(flow.param_grad_norm)
    values = [flow.param_grad_norm[n] for n in names]
    ax.barh(np.arange(len(names)), _positive(values), color="#555555")
    ax.set_yticks(np.arange(len(names)))
    ax.set_yticklabels(names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("‖∂L/∂θ‖₂")
    ax.set_title("parameter gradients")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(4, max(1, len(labels))),
               fontsize=8, frameon=False)
    fig.suptitle(f"{title}  (loss {flow.loss:.4g})")
    fig.tight_layout(rect=(0, 0.06 + 0.03 * ((len(labels) - 1) // 4), 1, 1))
    return fig
