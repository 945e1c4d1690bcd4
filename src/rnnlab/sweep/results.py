"""The sweep's tables and plot, read back from the trials' run folders (not from Ray).

``results.csv``: one row per trial: ``trial_id``, ``status`` (complete, stopped, error,
pending), every setting of its ``config.json`` as ``config/<name>`` (swept and fixed, the seed
included), and every metric of its ``metrics.json`` (for a trial that ASHA stopped, the last
epoch's logs from its history, which is all it has).

``summary.csv``: one row per setting of the swept values other than the seed: the number of
trials, how many completed, were stopped or failed, and ``<metric>_mean`` / ``<metric>_std``
(sample standard deviation over the seeds; 0 for a single trial) of every metric over the
completed trials.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from ..experiments.context import read_history
from .plan import Trial
from .trial import read_state

Row = dict[str, Any]


def trial_row(trial: Trial, folder: Path) -> Row:
    state = read_state(folder)
    status = state.get("status", "pending")
    row: Row = {"trial_id": trial.id, "status": status}
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        config = dict(trial.overrides)
    for key, value in sorted(config.items()):
        row[f"config/{key}"] = value
    metrics: dict[str, Any] = {}
    if status == "complete":
        try:
            metrics = json.loads((folder / "metrics.json").read_text())
        except (OSError, ValueError):
            metrics = {}
    elif status == "stopped":
        histories = sorted(folder.glob("history*.csv"))
        for path in histories[-1:]:
            metrics = {k: v[-1] for k, v in read_history(path).items() if v}
            metrics["epochs"] = max((len(v) for v in read_history(path).values()), default=0)
    row.update(metrics)
    if status == "stopped" and "stopped_at_epoch" in state:
        row["stopped_at_epoch"] = state["stopped_at_epoch"]
    return row


def summarise(rows: list[Row], swept: list[str]) -> list[Row]:
    """Mean and standard deviation of each metric over the seeds of each setting."""
    keys = [f"config/{name}" for name in swept if name != "seed"]
    groups: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(json.dumps(row.get(k), default=str) for k in keys),
                          []).append(row)
    metric_names = _metric_names(rows)
    out = []
    for members in groups.values():
        done = [r for r in members if r["status"] == "complete"]
        summary: Row = {k: members[0].get(k) for k in keys}
        summary.update(trials=len(members), complete=len(done),
                       stopped=sum(r["status"] == "stopped" for r in members),
                       error=sum(r["status"] == "error" for r in members))
        for name in metric_names:
            values = [float(r[name]) for r in done if _is_number(r.get(name))]
            if values:
                mean = sum(values) / len(values)
                std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)
                                ) if len(values) > 1 else 0.0
                summary[f"{name}_mean"], summary[f"{name}_std"] = mean, std
        out.append(summary)
    return out


def _metric_names(rows: list[Row]) -> list[str]:
    names: dict[str, None] = {}
    for row in rows:
        for key, value in row.items():
            if key not in ("trial_id", "status") and not key.startswith("config/") \
                    and _is_number(value):
                names[key] = None
    return sorted(names)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(
        float(value))


def write_csv(path: Path, rows: list[Row]) -> Path:
    """Rows with the union of their columns (first-seen order); atomic."""
    import os
    import tempfile

    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in columns})
    os.replace(tmp, path)
    return path


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return value


def setting_label(row: Row, swept: list[str]) -> str:
    parts = [f"{name}={row.get(f'config/{name}')}" for name in swept if name != "seed"]
    return ", ".join(parts) or "(one setting)"


def table(summary: list[Row], swept: list[str], metric: str) -> str:
    """The summary as aligned text: setting, metric mean ± std, trial counts."""
    lines = [("setting", f"{metric} (mean ± std)", "complete", "stopped", "error")]
    for row in summary:
        mean = row.get(f"{metric}_mean")
        shown = "-" if mean is None else f"{mean:.6g} ± {row[f'{metric}_std']:.2g}"
        lines.append((setting_label(row, swept), shown, str(row["complete"]),
                      str(row["stopped"]), str(row["error"])))
    widths = [max(len(line[i]) for line in lines) for i in range(5)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip()
                     for line in lines)


def plot(rows: list[Row], summary: list[Row], swept: list[str], metric: str, title: str) -> Any:
    """The metric per setting: each trial as a dot, the mean ± std as a bar with error bars."""
    from ..experiments.plots import _plt

    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(summary) + 2), 3.8))
    labels = [setting_label(s, swept) for s in summary]
    for i, (label, s) in enumerate(zip(labels, summary)):
        mean = s.get(f"{metric}_mean")
        if mean is not None:
            ax.bar(i, mean, yerr=s[f"{metric}_std"], color="tab:blue", alpha=0.35,
                   capsize=4, label="mean ± std over seeds" if i == 0 else None)
        points = [float(r[metric]) for r in rows if r["status"] == "complete"
                  and setting_label(r, swept) == label and _is_number(r.get(metric))]
        ax.scatter([i] * len(points), points, color="black", s=14, zorder=3,
                   label="one trial" if i == 0 else None)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=20, ha="right")
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="y")
    ax.legend()
    fig.tight_layout()
    return fig
