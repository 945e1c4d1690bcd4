"""``compile`` and what it sets up: the optimizer, one loss per output with its weight, the metrics
(plain and weighted) and the loss trackers, and their per-batch update and results.

Keras 3 semantics: ``metrics`` ignore ``sample_weight``/``class_weight``; ``weighted_metrics``
use them, reported as ``weighted_<name>`` when a plain metric has that name (else as
``<name>``). The loss always uses the sample weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class CompileMixin:
    """Mixin for models: ``compile`` and the loss/metric bookkeeping of one batch."""

    # -- compile -----------------------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None,
                loss_weights: Any = None, weighted_metrics: Any = None,
                run_eagerly: bool = False, jit_compile: Any = "auto") -> None:
        from .. import losses as losses_mod
        from .. import optimizers as optimizers_mod

        del run_eagerly, jit_compile
        _check_wrapped_activity(self.layers)  # type: ignore[attr-defined]
        self.optimizer = optimizers_mod.get(optimizer)
        names = self.output_names  # type: ignore[attr-defined]
        n = len(names)
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='mse' or "
                             "loss='sparse_categorical_crossentropy'")
        self._loss_spec = loss
        self._metric_spec = metrics
        self._weighted_metric_spec = weighted_metrics
        self._loss_weight_spec = loss_weights
        loss_list = _per_output(loss, names, "loss")
        self.loss_objects = [losses_mod.get(spec) for spec in loss_list]
        weights = _per_output(loss_weights if loss_weights is not None else 1.0, names,
                              "loss_weights")
        self.loss_weights = [float(w) for w in weights]
        self.metric_objects = self._make_metrics(metrics, loss_list)
        self.weighted_metric_objects = self._make_metrics(weighted_metrics, loss_list)
        _name_metrics(self.metric_objects, self.weighted_metric_objects,
                      names if n > 1 else [""] * n)
        from .. import metrics as metrics_mod

        self._loss_trackers = [metrics_mod.Mean(name="loss")] + (
            [metrics_mod.Mean(name=f"{name}_loss") for name in names] if n > 1 else [])
        _load_engines(self.layers)  # type: ignore[attr-defined]
        self.compiled = True

    def _make_metrics(self, specs: Any, loss_list: list[Any]) -> list[list[Any]]:
        """One list of metric objects per output."""
        from .. import metrics as metrics_mod

        names = self.output_names  # type: ignore[attr-defined]
        shapes = self._output_shapes_or_none()
        out: list[list[Any]] = []
        for k, per in enumerate(_metrics_per_output(specs, names)):
            objs = []
            for spec in per:
                objs.append(metrics_mod.get(spec, loss=loss_list[k], output_shape=shapes[k]))
            out.append(objs)
        return out

    @property
    def losses(self) -> list[float]:
        """The regularization penalties of the model's layers (Keras's ``model.losses``): one
        float per regularized weight or activity, at the current weights (activity penalties
        are those of the last forward pass)."""
        from ..regularization import layer_penalties, with_sublayers

        return [v for layer in with_sublayers(self.layers)  # type: ignore[attr-defined]
                for v in layer_penalties(layer)]

    def _output_shapes_or_none(self) -> list[Any]:
        try:
            return list(self.output_shapes())  # type: ignore[attr-defined]
        except ValueError:
            return [None] * len(self.output_names)  # type: ignore[attr-defined]

    def compile_config(self) -> dict[str, Any]:
        from .._registry import serialize

        config = {"optimizer": serialize(self.optimizer), "loss": serialize(self._loss_spec),
                  "metrics": serialize(self._metric_spec),
                  "loss_weights": serialize(self._loss_weight_spec)}
        if getattr(self, "_weighted_metric_spec", None) is not None:
            config["weighted_metrics"] = serialize(self._weighted_metric_spec)
        return config

    def _require_compiled(self, what: str) -> None:
        if not getattr(self, "compiled", False):
            raise RuntimeError(f"You must compile the model before {what}: call "
                               "model.compile(optimizer=..., loss=...)")

    # -- one batch ---------------------------------------------------------------------------------
    def _losses_and_grads(self, ys: list[Any], outs: list[Any], out_masks: list[Any],
                          sw: Any) -> tuple[float, list[float], list[Any]]:
        total = 0.0
        per, grads = [], []
        for k, (loss, w, y, o, m) in enumerate(zip(self.loss_objects, self.loss_weights, ys,
                                                   outs, out_masks)):
            try:
                value, g = loss.value_and_grad(y, o, sample_weight=sw, mask=m)
            except ValueError as exc:
                name = self.output_names[k]  # type: ignore[attr-defined]
                raise ValueError(f"loss for output {name!r} (shape {np.shape(o)}): {exc}") from exc
            total += w * value
            per.append(value)
            grads.append(g * w if w != 1.0 else g)
        return total, per, grads

    def _update_metrics(self, total: float, per: list[float], ys: list[Any], outs: list[Any],
                        out_masks: list[Any], sw: Any, n: int) -> None:
        self._loss_trackers[0].update_state(total, sample_weight=n)
        for tracker, value in zip(self._loss_trackers[1:], per):
            tracker.update_state(value, sample_weight=n)
        for objs, y, o, m in zip(self.metric_objects, ys, outs, out_masks):
            for metric in objs:
                metric.update_state(y, o, mask=m)
        for objs, y, o, m in zip(self.weighted_metric_objects, ys, outs, out_masks):
            for metric in objs:
                metric.update_state(y, o, sample_weight=sw, mask=m)

    def _all_metrics(self) -> list[Any]:
        return [m for group in (self.metric_objects, self.weighted_metric_objects)
                for objs in group for m in objs]

    def _reset_metrics(self) -> None:
        for tracker in self._loss_trackers:
            tracker.reset_state()
        for metric in self._all_metrics():
            metric.reset_state()

    def _logs(self) -> dict[str, float]:
        logs = {t.name: float(t.result()) for t in self._loss_trackers}
        for metric in self._all_metrics():
            logs[metric.name] = float(metric.result())
        return logs


def _check_wrapped_activity(layers: list[Any]) -> None:
    """An activity regularizer on a layer inside a wrapper (Bidirectional, TimeDistributed)
    is not applied here: refuse it rather than train without it."""
    from ..regularization import with_sublayers

    top = {id(layer) for layer in layers}
    inner = [layer.name for layer in with_sublayers(layers)
             if id(layer) not in top and getattr(layer, "activity_regularizer", None)]
    if inner:
        raise ValueError(f"activity_regularizer on the wrapped layer(s) {inner} is not "
                         "supported; put it on the wrapper (e.g. Bidirectional(..., "
                         "activity_regularizer=...)) instead")


def _name_metrics(plain: list[list[Any]], weighted: list[list[Any]],
                  outputs: list[str]) -> None:
    """Keras 3's log names: ``<output>_<metric>`` (no output prefix for one output); a
    repeated name gets ``_1``, ``_2``...; a weighted metric whose name a plain one already uses
    becomes ``weighted_<metric>``."""
    used: dict[str, int] = {}

    def unique(name: str) -> str:
        if name not in used:
            used[name] = 1
            return name
        index = used[name]
        used[name] += 1
        return f"{name}_{index}"

    def prefixed(out: str, name: str) -> str:
        return f"{out}_{name}" if out else name

    for out, objs in zip(outputs, plain):
        for m in objs:
            m.name = unique(prefixed(out, m.name))
    for out, objs in zip(outputs, weighted):
        for m in objs:
            name = prefixed(out, m.name)
            if name in used:
                name = prefixed(out, f"weighted_{m.name}")
            m.name = unique(name)


def _per_output(spec: Any, names: list[str], what: str) -> list[Any]:
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(names))
        if unknown:
            raise ValueError(f"{what} has keys {unknown} that are not output names {names}")
        return [spec.get(n) for n in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != len(names):
            raise ValueError(f"{what} has {len(spec)} entries but the model has {len(names)} "
                             f"outputs {names}")
        return list(spec)
    return [spec] * len(names)


def _metrics_per_output(metrics: Any, names: list[str]) -> list[list[Any]]:
    if metrics is None:
        return [[] for _ in names]
    if isinstance(metrics, dict):
        out = []
        for n in names:
            m = metrics.get(n, [])
            out.append(list(m) if isinstance(m, (list, tuple)) else [m])
        return out
    if isinstance(metrics, (list, tuple)):
        if len(names) > 1 and len(metrics) == len(names) and all(
                isinstance(m, (list, tuple)) for m in metrics):
            return [list(m) for m in metrics]
        return [list(metrics) for _ in names]
    return [[metrics] for _ in names]


def _load_engines(layers: list[Any]) -> None:
    """Choose the engine of every recurrent layer now (``engine_choice``, in the calling
    thread's engine setting): on the compiled engine that imports numba and the cells'
    compiled sweeps here, at ``compile``, instead of inside the first training step (about
    55 MiB of the first step's peak memory and a few hundred ms). No other effect: each call
    still chooses its engine itself."""
    from ..regularization import with_sublayers

    for layer in with_sublayers(layers):
        choice = getattr(layer, "engine_choice", None)
        if callable(choice):
            choice()

