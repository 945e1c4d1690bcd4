"""Plots written by experiments (matplotlib with the non-interactive Agg backend, lazily)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _plt() -> Any:
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plots need matplotlib: pip install 'rnnlab[lab]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def curves(history: dict[str, list[float]], title: str, keys: list[str] | None = None) -> Any:
    """Loss/metric curves per epoch, one panel per quantity (train and val together)."""
    plt = _plt()
    base = sorted({k[4:] if k.startswith("val_") else k for k in history})
    base = [k for k in base if keys is None or k in keys]
    fig, axes = plt.subplots(1, max(1, len(base)), figsize=(5 * max(1, len(base)), 3.5))
    axes = np.atleast_1d(axes)
    for ax, key in zip(axes, base):
        for name in (key, f"val_{key}"):
            if name in history:
                values = history[name]
                ax.plot(range(1, len(values) + 1), values, marker="o", ms=3, label=name)
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def series(title: str, lines: dict[str, Any], xlabel: str = "step", ylabel: str = "") -> Any:
    """Several named 1-D series on one axis (loss curves, predictions against truth)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 3.8))
    for name, values in lines.items():
        values = np.asarray(values)
        ax.plot(np.arange(len(values)), values, label=name, lw=1.2)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def text_panel(title: str, text: str) -> Any:
    """Sampled text rendered into an image."""
    plt = _plt()
    lines = text.splitlines() or [""]
    fig = plt.figure(figsize=(9, 0.25 * min(len(lines), 40) + 1))
    fig.text(0.01, 0.98, title, va="top", fontsize=11, weight="bold")
    fig.text(0.01, 0.90, "\n".join(lines[:40]), va="top", family="monospace", fontsize=8)
    return fig


def scatter_labels(title: str, points: Any, labels: list[str]) -> Any:
    """A 2-D projection with a text label per point (word embeddings)."""
    plt = _plt()
    points = np.asarray(points)
    fig, ax = plt.subplots(figsize=(8, 8))
    ax.scatter(points[:, 0], points[:, 1], s=6, alpha=0.6)
    for (px, py), label in zip(points, labels):
        ax.annotate(label, (px, py), fontsize=7)
    ax.set_title(title)
    return fig
