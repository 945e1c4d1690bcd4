"""Figures of ``introspect``: gate activations over time and a text heat map of units."""

from __future__ import annotations

from typing import Any

import numpy as np

from .plots import CELL_LABELS, GATE_COLORS, plt


def gates_figure(seen: Any, title: str) -> Any:
    """One row per recurrent layer: the mean of each gate over batch and units against t (with
    the 10-90% band over units), and the share of saturated gate values."""
    p = plt()
    keys = [k for k in seen.gates if seen.gates[k]] or list(seen.hidden)
    fig, axes = p.subplots(len(keys), 2, figsize=(11, 3.2 * len(keys)), squeeze=False,
                           gridspec_kw={"width_ratios": [3, 1]})
    seen_labels: dict[str, Any] = {}
    for row, key in zip(axes, keys):
        ax, bar = row
        gates = seen.gates.get(key) or {}
        if not gates:                              # no gates (SimpleRNN): the hidden state
            gates = {"h": seen.hidden[key]}
        for name, values in gates.items():
            color = GATE_COLORS.get(name, "#333333")
            t = np.arange(1, values.shape[1] + 1)
            per_unit = values.mean(axis=0)                        # (T, H)
            line, = ax.plot(t, per_unit.mean(axis=1), color=color, lw=1.5)
            ax.fill_between(t, np.percentile(per_unit, 10, axis=1),
                            np.percentile(per_unit, 90, axis=1), color=color, alpha=0.15)
            seen_labels.setdefault(name, line)
        ax.set_xlabel("time step t")
        ax.set_ylabel("activation (mean, 10-90% of units)")
        ax.set_title(f"{key} ({CELL_LABELS.get(seen.cells.get(key, ''), '')})")
        ax.grid(alpha=0.3)
        sat = seen.saturation.get(key, {})
        names = list(sat)
        bar.bar(np.arange(len(names)), [sat[n] for n in names],
                color=[GATE_COLORS.get(n, "#333333") for n in names])
        bar.set_xticks(np.arange(len(names)))
        bar.set_xticklabels(names)
        bar.set_ylim(0, 1)
        bar.set_ylabel("share saturated")
        bar.set_title("saturation")
    fig.legend(list(seen_labels.values()), list(seen_labels), loc="lower center",
               ncol=len(seen_labels), frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def text_heatmap(text: str, values: np.ndarray, units: list[int], key: str,
                 columns: int = 80) -> Any:
    """``values (len(text), k)``: one panel per unit, the text wrapped at ``columns``
    characters, each character's cell coloured by the unit's value (-1 blue .. +1 red)."""
    p = plt()
    n = len(text)
    lines = max(1, -(-n // columns))
    fig, axes = p.subplots(len(units), 1, figsize=(columns * 0.13, (lines * 0.22 + 0.8)
                                                   * len(units)), squeeze=False)
    image = None
    for ax, k, unit in zip(axes[:, 0], range(len(units)), units):
        grid = np.full((lines, columns), np.nan)
        grid.reshape(-1)[:n] = values[:n, k]
        image = ax.imshow(grid, cmap="coolwarm", vmin=-1, vmax=1, aspect="auto")
        for i, ch in enumerate(text):
            shown = {"\n": "⏎", " ": "·", "\t": "→"}.get(ch, ch)
            ax.text(i % columns, i // columns, shown, ha="center", va="center", fontsize=6,
                    family="monospace")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{key}, unit {unit}", fontsize=9, loc="left")
    if image is not None:
        fig.colorbar(image, ax=axes[:, 0].tolist(), fraction=0.02, pad=0.01,
                     label="hidden-state value")
    return fig
