"""Training, evaluation and prediction: ``compile``, ``fit``, ``evaluate``, ``predict`` and the
single-batch variants, with Keras's arguments and defaults.

Data may be arrays (one per model input/output), Python generators or iterables yielding
``(x, y)`` or ``(x, y, sample_weight)`` batches, or Keras ``Sequence``-like objects (``__len__``
and ``__getitem__``). Shuffling draws from a generator keyed by the model's seed and the epoch
number, so ``fit(epochs=4)`` equals ``fit(epochs=2)`` + save + load + ``fit(epochs=4,
initial_epoch=2)`` exactly. Output masks (from ``Embedding(mask_zero=True)``/``Masking``) weight
the loss as in Keras: masked steps do not count.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import random as rnd
from ..backend import as_float_array
from ..validation import check_targets


class Trainer:
    """Mixin giving a model Keras's training API; the model provides forward/backward."""

    # -- compile -----------------------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None,
                loss_weights: Any = None, weighted_metrics: Any = None,
                run_eagerly: bool = False, jit_compile: Any = "auto") -> None:
        from .. import losses as losses_mod
        from .. import metrics as metrics_mod
        from .. import optimizers as optimizers_mod

        del weighted_metrics, run_eagerly, jit_compile
        self.optimizer = optimizers_mod.get(optimizer)
        names = self.output_names
        n = len(names)
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='mse' or "
                             "loss='sparse_categorical_crossentropy'")
        self._loss_spec = loss
        self._metric_spec = metrics
        self._loss_weight_spec = loss_weights
        loss_list = _per_output(loss, names, "loss")
        self.losses = [losses_mod.get(spec) for spec in loss_list]
        weights = _per_output(loss_weights if loss_weights is not None else 1.0, names,
                              "loss_weights")
        self.loss_weights = [float(w) for w in weights]
        metric_lists = _metrics_per_output(metrics, names)
        shapes = self._output_shapes_or_none()
        self.metric_objects: list[list[Any]] = []
        for k, specs in enumerate(metric_lists):
            objs = []
            for spec in specs:
                m = metrics_mod.get(spec, loss=loss_list[k], output_shape=shapes[k])
                if n > 1:
                    m.name = f"{names[k]}_{m.name}"
                objs.append(m)
            self.metric_objects.append(objs)
        self._loss_trackers = [metrics_mod.Mean(name="loss")] + (
            [metrics_mod.Mean(name=f"{name}_loss") for name in names] if n > 1 else [])
        self.compiled = True

    def _output_shapes_or_none(self) -> list[Any]:
        try:
            return list(self.output_shapes())  # type: ignore[attr-defined]
        except ValueError:
            return [None] * len(self.output_names)  # type: ignore[attr-defined]

    def compile_config(self) -> dict[str, Any]:
        from .._registry import serialize

        return {"optimizer": serialize(self.optimizer), "loss": serialize(self._loss_spec),
                "metrics": serialize(self._metric_spec),
                "loss_weights": serialize(self._loss_weight_spec)}

    def _require_compiled(self, what: str) -> None:
        if not getattr(self, "compiled", False):
            raise RuntimeError(f"You must compile the model before {what}: call "
                               "model.compile(optimizer=..., loss=...)")

    # -- input handling ----------------------------------------------------------------------------
    def _as_inputs(self, x: Any) -> list[Any]:
        n = self.n_inputs  # type: ignore[attr-defined]
        if isinstance(x, dict):
            names = [t.name for t in getattr(self, "inputs", [])]
            missing = [k for k in names if k not in x]
            if missing:
                raise ValueError(f"missing input(s) {missing}; the model's inputs are {names}")
            return [x[k] for k in names]
        if n > 1:
            if not isinstance(x, (list, tuple)) or len(x) != n:
                got = len(x) if isinstance(x, (list, tuple)) else 1
                names = [t.name for t in getattr(self, "inputs", [])]
                raise ValueError(f"The model expects {n} input arrays (a list, for its inputs "
                                 f"{names}), got {got}")
            return list(x)
        if isinstance(x, (list, tuple)) and len(x) == 1 and isinstance(x[0], np.ndarray):
            return [x[0]]
        if isinstance(x, (list, tuple)) and len(x) > 1 and all(
                isinstance(v, np.ndarray) for v in x):
            raise ValueError(f"The model has 1 input but got a list of {len(x)} arrays; pass "
                             "one array (stack samples along the first axis)")
        return [x]

    def _as_outputs(self, y: Any) -> list[Any]:
        n = self.n_outputs  # type: ignore[attr-defined]
        if isinstance(y, dict):
            names = self.output_names  # type: ignore[attr-defined]
            missing = [k for k in names if k not in y]
            if missing:
                raise ValueError(f"missing target(s) for output(s) {missing}; the model's "
                                 f"outputs are {names}")
            return [np.asarray(y[k]) for k in names]
        if n > 1:
            if not isinstance(y, (list, tuple)) or len(y) != n:
                got = len(y) if isinstance(y, (list, tuple)) else 1
                raise ValueError(f"The model has {n} outputs; expected {n} target arrays, "
                                 f"got {got}")
            return [np.asarray(v) for v in y]
        if isinstance(y, (list, tuple)) and len(y) == 1 and isinstance(y[0], np.ndarray):
            return [y[0]]
        return [np.asarray(y)]

    def _standardize_x(self, xs: list[Any]) -> list[Any]:
        out = []
        for k, ((shape, dtype), x) in enumerate(zip(self.input_spec(), xs)):  # type: ignore
            arr = np.asarray(x)
            if len(shape) > 1 and arr.ndim != len(shape):
                raise ValueError(f"model input {k}: expected a {len(shape)}-D array of shape "
                                 f"{tuple(shape)}, got shape {arr.shape}")
            takes_ids = np.dtype(dtype).kind in "iu" or self._input_takes_ids(k)
            if takes_ids and arr.dtype.kind in "iubf":
                out.append(arr)  # token ids: the Embedding layer validates them
                continue
            out.append(as_float_array(arr, _float_or(dtype, self), f"model input {k}"))
        return out

    def _input_takes_ids(self, k: int) -> bool:
        """Whether model input ``k`` holds integer token ids (it feeds an Embedding)."""
        layers = self.layers  # type: ignore[attr-defined]
        return bool(layers) and takes_ids(layers[0])

    # -- one batch ---------------------------------------------------------------------------------
    def _losses_and_grads(self, ys: list[Any], outs: list[Any], out_masks: list[Any],
                          sw: Any) -> tuple[float, list[float], list[Any]]:
        total = 0.0
        per, grads = [], []
        for k, (loss, w, y, o, m) in enumerate(zip(self.losses, self.loss_weights, ys, outs,
                                                   out_masks)):
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
                metric.update_state(y, o, sample_weight=sw, mask=m)

    def _reset_metrics(self) -> None:
        for tracker in self._loss_trackers:
            tracker.reset_state()
        for objs in self.metric_objects:
            for metric in objs:
                metric.reset_state()

    def _logs(self) -> dict[str, float]:
        logs = {t.name: float(t.result()) for t in self._loss_trackers}
        for objs in self.metric_objects:
            for metric in objs:
                logs[metric.name] = float(metric.result())
        return logs

    def _train_batch(self, xs: list[Any], ys: list[Any], sw: Any) -> None:
        outs, out_masks, cache = self.forward(xs, training=True)  # type: ignore[attr-defined]
        total, per, grads = self._losses_and_grads(ys, outs, out_masks, sw)
        self.zero_grad()  # type: ignore[attr-defined]
        self.backward(grads, cache, input_grads=False)  # type: ignore[attr-defined]
        params = dict(self.named_params(trainable_only=True))  # type: ignore[attr-defined]
        gradients = dict(self.named_grads(trainable_only=True))  # type: ignore[attr-defined]
        self.optimizer.apply(params, gradients)
        self._update_metrics(total, per, ys, outs, out_masks, sw, _batch_len(xs))

    def _test_batch(self, xs: list[Any], ys: list[Any], sw: Any) -> None:
        outs, out_masks, _ = self.forward(xs, training=False)  # type: ignore[attr-defined]
        total, per, _ = self._losses_and_grads(ys, outs, out_masks, sw)
        self._update_metrics(total, per, ys, outs, out_masks, sw, _batch_len(xs))

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       reset_metrics: bool = True, return_dict: bool = False) -> Any:
        self._require_compiled("training")
        xs, ys = self._prepare(x, y)
        check_targets(ys, sample_weight, self.output_names)  # type: ignore[attr-defined]
        if reset_metrics:
            self._reset_metrics()
        self._train_batch(xs, ys, sample_weight)
        return self._result(return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      reset_metrics: bool = True, return_dict: bool = False) -> Any:
        self._require_compiled("evaluating")
        xs, ys = self._prepare(x, y)
        check_targets(ys, sample_weight, self.output_names)  # type: ignore[attr-defined]
        if reset_metrics:
            self._reset_metrics()
        self._test_batch(xs, ys, sample_weight)
        return self._result(return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        xs = self._standardize_x(self._as_inputs(x))
        outs, _, _ = self.forward(xs, training=False)  # type: ignore[attr-defined]
        return outs if len(outs) > 1 else outs[0]

    def _result(self, return_dict: bool) -> Any:
        logs = self._logs()
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def _prepare(self, x: Any, y: Any) -> tuple[list[Any], list[Any]]:
        xs = self._standardize_x(self._as_inputs(x))
        ys = self._as_outputs(y)
        _check_lengths(xs, ys)
        return xs, ys

    # -- fit ---------------------------------------------------------------------------------------
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: Any = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: Any = None,
            sample_weight: Any = None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_steps: int | None = None,
            validation_batch_size: int | None = None, validation_freq: int = 1) -> Any:
        from ..callbacks import CallbackList

        self._require_compiled("training")
        if class_weight is not None:
            raise NotImplementedError("class_weight is not supported; pass sample_weight")
        verbose = 1 if verbose == "auto" else int(verbose)
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
        train = _DataSource.make(self, x, y, sample_weight, batch_size, steps_per_epoch,
                                 shuffle, "x")
        if validation_split and validation_data is None:
            if not train.is_arrays:
                raise ValueError("validation_split is only supported for array inputs; pass "
                                 "validation_data for generators")
            train, val = train.split(validation_split)
        elif validation_data is not None:
            val = _DataSource.make_validation(self, validation_data,
                                              validation_batch_size or batch_size,
                                              validation_steps)
        else:
            val = None
        callback_list = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                     model=self, verbose=verbose, epochs=epochs,
                                     steps=train.steps)
        self.stop_training = False
        callback_list.on_train_begin()
        logs: dict[str, float] = {}
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            callback_list.on_epoch_begin(epoch)
            seen = 0
            for step, (xs, ys, sw) in enumerate(train.batches(epoch)):
                callback_list.on_train_batch_begin(step)
                self._train_batch(xs, ys, sw)
                seen += 1
                logs = self._logs()
                callback_list.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if seen == 0:
                warnings.warn(
                    f"Your input ran out of data in epoch {epoch + 1}; interrupting training. "
                    "Make sure the generator or iterable can give at least steps_per_epoch * "
                    "epochs batches (an exhausted Python generator gives none).", stacklevel=2)
                self.stop_training = True
                break
            logs = self._logs()
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_source(val, callback_list)
                if val_logs is None:
                    warnings.warn(
                        f"the validation data gave no batch in epoch {epoch + 1} (a Python "
                        "generator is spent after one pass: give validation_steps and a "
                        "generator that loops, or a Sequence); no val_ values this epoch",
                        stacklevel=2)
                else:
                    logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        callback_list.on_train_end(logs)
        return self.history

    def fit_generator(self, generator: Any, steps_per_epoch: int | None = None,
                      epochs: int = 1, verbose: Any = 1, callbacks: Any = None,
                      validation_data: Any = None, validation_steps: int | None = None,
                      validation_freq: int = 1, class_weight: Any = None,
                      max_queue_size: int = 10, workers: int = 1,
                      use_multiprocessing: bool = False, shuffle: bool = True,
                      initial_epoch: int = 0) -> Any:
        """Deprecated Keras name: use ``fit``, which accepts generators."""
        warnings.warn("`Model.fit_generator` is deprecated; `Model.fit` supports generators",
                      DeprecationWarning, stacklevel=2)
        del max_queue_size, workers, use_multiprocessing
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs,
                        verbose=verbose, callbacks=callbacks, validation_data=validation_data,
                        validation_steps=validation_steps, validation_freq=validation_freq,
                        class_weight=class_weight, shuffle=shuffle, initial_epoch=initial_epoch)

    # -- evaluate / predict ------------------------------------------------------------------------
    def _evaluate_source(self, source: _DataSource,
                         callback_list: Any = None) -> dict[str, float] | None:
        """The logs of one pass over ``source``; None when it gave no batch at all."""
        self._reset_metrics()
        if callback_list is not None:
            callback_list.on_test_begin()
        seen = 0
        for step, (xs, ys, sw) in enumerate(source.batches(None)):
            if callback_list is not None:
                callback_list.on_test_batch_begin(step)
            self._test_batch(xs, ys, sw)
            seen += 1
            if callback_list is not None:
                callback_list.on_test_batch_end(step, self._logs())
        logs = self._logs() if seen else {}
        if callback_list is not None:
            callback_list.on_test_end(logs)
        return logs if seen else None

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", sample_weight: Any = None, steps: int | None = None,
                 callbacks: Any = None, return_dict: bool = False) -> Any:
        from ..callbacks import CallbackList

        self._require_compiled("evaluating")
        source = _DataSource.make(self, x, y, sample_weight, batch_size, steps, False, "x")
        verbose = 1 if verbose == "auto" else int(verbose)
        callback_list = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1, steps=source.steps)
        if self._evaluate_source(source, callback_list) is None:
            raise ValueError("evaluate got no data: the input gave no batch (empty arrays or a "
                             "spent generator)")
        return self._result(return_dict)

    def evaluate_generator(self, generator: Any, steps: int | None = None, **kwargs: Any) -> Any:
        warnings.warn("`Model.evaluate_generator` is deprecated; use `Model.evaluate`",
                      DeprecationWarning, stacklevel=2)
        return self.evaluate(generator, steps=steps, **kwargs)

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto",
                steps: int | None = None, callbacks: Any = None) -> Any:
        from ..callbacks import CallbackList

        verbose = 1 if verbose == "auto" else int(verbose)
        batch_size = _check_batch_size(batch_size)
        if _is_generator_like(x):
            source = _DataSource(self, None, None, None, batch_size, steps, False, iterator=x)
        else:
            xs = self._standardize_x(self._as_inputs(x))
            _check_lengths(xs, [])
            if _batch_len(xs) == 0:
                raise ValueError("predict got an empty input (0 samples)")
            source = _DataSource(self, xs, None, None, batch_size, steps, False)
        callback_list = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1, steps=source.steps)
        callback_list.on_predict_begin()
        outputs: list[list[Any]] = []
        for step, (xs_b, _, _) in enumerate(source.batches(None, need_y=False)):
            callback_list.on_predict_batch_begin(step)
            outs, _, _ = self.forward(xs_b, training=False)  # type: ignore[attr-defined]
            outputs.append(outs)
            callback_list.on_predict_batch_end(
                step, {"outputs": outs if len(outs) > 1 else outs[0]})
        callback_list.on_predict_end()
        if not outputs:
            raise ValueError("predict got no data: the input yielded no batches")
        merged = [np.concatenate([o[k] for o in outputs], axis=0) for k in range(len(outputs[0]))]
        return merged if len(merged) > 1 else merged[0]

    def predict_generator(self, generator: Any, steps: int | None = None, **kwargs: Any) -> Any:
        warnings.warn("`Model.predict_generator` is deprecated; use `Model.predict`",
                      DeprecationWarning, stacklevel=2)
        return self.predict(generator, steps=steps, **kwargs)


class _DataSource:
    """Batches from arrays (shuffled per epoch) or from a generator / Sequence."""

    def __init__(self, model: Any, xs: list[Any] | None, ys: list[Any] | None, sw: Any,
                 batch_size: int, steps: int | None, shuffle: bool,
                 iterator: Any = None) -> None:
        self.model = model
        self.xs, self.ys, self.sw = xs, ys, sw
        self.batch_size = int(batch_size)
        if self.batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        self.shuffle = shuffle
        self.iterator = iterator
        self._live: Iterator[Any] | None = None
        self.is_arrays = iterator is None
        if self.is_arrays and xs is not None:
            n = _batch_len(xs)
            full = -(-n // self.batch_size)
            self.steps = min(full, steps) if steps else full
        elif hasattr(iterator, "__len__") and hasattr(iterator, "__getitem__"):
            self.steps = steps or len(iterator)
        else:
            self.steps = steps

    @classmethod
    def make(cls, model: Any, x: Any, y: Any, sw: Any, batch_size: int | None,
             steps: int | None, shuffle: bool, what: str) -> _DataSource:
        if x is None:
            raise ValueError(f"no training data: pass {what}")
        if _is_generator_like(x):
            if y is not None:
                raise ValueError(
                    f"y must not be given when x is a generator, iterator or Sequence (got y of "
                    f"type {type(y).__name__}): the data must yield (x, y) or (x, y, "
                    "sample_weight) tuples. (Keras 2's fit_generator(gen, steps, epochs) order is "
                    "fit(gen, steps_per_epoch=steps, epochs=epochs).)")
            if sw is not None:
                raise ValueError("sample_weight must not be given when x is a generator; yield "
                                 "(x, y, sample_weight) tuples instead")
            if batch_size is not None:
                warnings.warn("batch_size is ignored for generator inputs", stacklevel=3)
            return cls(model, None, None, None, 32, steps, shuffle, iterator=x)
        if y is None:
            raise ValueError("targets y are required when x is an array")
        batch_size = _check_batch_size(batch_size)
        xs, ys = model._prepare(x, y)
        if sw is not None:
            sw = np.asarray(sw)
            if sw.shape[0] != _batch_len(xs):
                raise ValueError(f"sample_weight has {sw.shape[0]} samples but x has "
                                 f"{_batch_len(xs)}")
        check_targets(ys, sw, model.output_names, " in validation_data" if what == "x_val" else "")
        return cls(model, xs, ys, sw, batch_size, steps, shuffle)

    @classmethod
    def make_validation(cls, model: Any, data: Any, batch_size: int | None,
                        steps: int | None) -> _DataSource:
        if _is_generator_like(data):
            return cls(model, None, None, None, 32, steps, False, iterator=data)
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise ValueError("validation_data must be (x_val, y_val) or (x_val, y_val, "
                             f"sample_weight), got {type(data).__name__} of length "
                             f"{len(data) if hasattr(data, '__len__') else '?'}")
        sw = data[2] if len(data) == 3 else None
        return cls.make(model, data[0], data[1], sw, batch_size, steps, False, "x_val")

    def split(self, fraction: float) -> tuple[_DataSource, _DataSource]:
        """Keras's validation_split: the last ``fraction`` of samples, taken before shuffling."""
        assert self.xs is not None and self.ys is not None
        n = _batch_len(self.xs)
        cut = int(n * (1.0 - fraction))
        if cut == 0 or cut == n:
            raise ValueError(f"validation_split={fraction} leaves an empty part of {n} samples")
        sw_a = self.sw[:cut] if self.sw is not None else None
        sw_b = self.sw[cut:] if self.sw is not None else None
        a = _DataSource(self.model, [v[:cut] for v in self.xs], [v[:cut] for v in self.ys], sw_a,
                        self.batch_size, None, self.shuffle)
        b = _DataSource(self.model, [v[cut:] for v in self.xs], [v[cut:] for v in self.ys], sw_b,
                        self.batch_size, None, False)
        return a, b

    def batches(self, epoch: int | None, need_y: bool = True) -> Iterator[tuple[Any, Any, Any]]:
        if self.is_arrays:
            yield from self._array_batches(epoch)
        else:
            yield from self._iterator_batches(need_y)

    def _array_batches(self, epoch: int | None) -> Iterator[tuple[Any, Any, Any]]:
        assert self.xs is not None
        n = _batch_len(self.xs)
        if self.shuffle and epoch is not None:
            order = rnd.generator(self.model.shuffle_seed, 2, epoch).permutation(n)
        else:
            order = None
        for step in range(self.steps or 0):
            lo, hi = step * self.batch_size, min(n, (step + 1) * self.batch_size)
            idx = order[lo:hi] if order is not None else slice(lo, hi)
            xs = [v[idx] for v in self.xs]
            ys = [v[idx] for v in self.ys] if self.ys is not None else None
            sw = self.sw[idx] if self.sw is not None else None
            yield xs, ys, sw

    def _iterator_batches(self, need_y: bool) -> Iterator[tuple[Any, Any, Any]]:
        it = self.iterator
        if hasattr(it, "__getitem__") and hasattr(it, "__len__"):
            for step in range(self.steps or len(it)):
                yield self._unpack(it[step], need_y)
            if hasattr(it, "on_epoch_end"):
                it.on_epoch_end()
            return
        if self._live is None:
            self._live = iter(it)
        step = 0
        while self.steps is None or step < self.steps:
            try:
                item = next(self._live)
            except StopIteration:
                self._live = None
                if step == 0 and iter(it) is not it:
                    # a re-iterable object (not a one-shot generator): start a new pass
                    self._live = iter(it)
                    try:
                        item = next(self._live)
                    except StopIteration:
                        self._live = None
                        item = None
                    if item is not None:
                        yield self._unpack(item, need_y)
                        step += 1
                        continue
                if self.steps is not None and step < self.steps:
                    warnings.warn(f"the data ran out after {step} of {self.steps} steps",
                                  stacklevel=2)
                return
            yield self._unpack(item, need_y)
            step += 1

    def _unpack(self, item: Any, need_y: bool) -> tuple[Any, Any, Any]:
        model = self.model
        if isinstance(item, tuple) and len(item) in (2, 3):
            x, y = item[0], item[1]
            sw = item[2] if len(item) == 3 else None
        elif need_y:
            raise ValueError("a generator for training must yield (x, y) or (x, y, "
                             f"sample_weight) tuples, got {type(item).__name__}")
        else:
            x, y, sw = item, None, None
        xs = model._standardize_x(model._as_inputs(x))
        ys = model._as_outputs(y) if y is not None else None
        if ys is not None:
            _check_lengths(xs, ys)
        check_targets(ys, sw, model.output_names, " in a batch the data yielded")
        return xs, ys, sw


def takes_ids(layer: Any) -> bool:
    """True for layers fed integer token ids (Embedding, also wrapped in TimeDistributed)."""
    if getattr(layer, "takes_integer_ids", False):
        return True
    inner = getattr(layer, "layer", None)
    return inner is not None and inner is not layer and takes_ids(inner)


def _check_batch_size(batch_size: Any) -> int:
    """Keras's default 32 for None; anything else must be a positive integer."""
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or (
            batch_size <= 0):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return int(batch_size)


def _is_generator_like(x: Any) -> bool:
    if x is None or isinstance(x, (np.ndarray, list, tuple, dict, str)):
        return False
    return hasattr(x, "__next__") or hasattr(x, "__iter__") or (
        hasattr(x, "__getitem__") and hasattr(x, "__len__"))


def _batch_len(xs: list[Any]) -> int:
    return int(np.shape(xs[0])[0])


def _check_lengths(xs: list[Any], ys: list[Any]) -> None:
    lengths = {int(np.shape(v)[0]) for v in xs}
    if len(lengths) > 1:
        raise ValueError(f"all input arrays must have the same number of samples, got "
                         f"{sorted(lengths)}")
    n = lengths.pop()
    for k, y in enumerate(ys):
        if int(np.shape(y)[0]) != n:
            raise ValueError(f"x has {n} samples but y{'' if len(ys) == 1 else f'[{k}]'} has "
                             f"{np.shape(y)[0]}: inputs and targets must have the same length")


def _float_or(dtype: str, model: Any) -> str:
    if np.dtype(dtype).kind == "f":
        return dtype
    layers = model.layers
    return layers[0].dtype if layers else "float32"


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
