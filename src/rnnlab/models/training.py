"""The training loop: ``fit``, ``evaluate``, ``predict`` and the single-batch variants, with
Keras's arguments and defaults.

One batch is ``forward`` (the model's single forward path, ``rnnlab.models.graph``), the losses
and their gradients (``compile``), ``backward``, and one optimizer step. Output masks (from
``Embedding(mask_zero=True)``/``Masking``) weight the loss as in Keras: masked steps do not
count. Data handling lives in ``rnnlab.models.data_adapter``, ``compile`` in
``rnnlab.models.compile``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import regularization
from ..validation import check_targets
from .compile import CompileMixin
from .data_adapter import (
    DataSource,
    InputAdapter,
    batch_len,
    check_batch_size,
    check_class_weight,
    check_lengths,
    class_weight_to_sample_weights,
    is_generator_like,
)


class Trainer(CompileMixin, InputAdapter):
    """Mixin giving a model Keras's training API; the model provides forward/backward."""

    def _penalty(self) -> float:
        """The regularization added to the loss (Keras: ``sum(model.losses)``): weight
        penalties at the current weights plus the activity penalties of the last forward."""
        layers = regularization.with_sublayers(self.layers)  # type: ignore[attr-defined]
        weights = sum(v for layer in layers for v in regularization.weight_penalties(layer))
        return float(weights + sum(getattr(self, "_activity_penalties", [])))

    def _train_batch(self, xs: list[Any], ys: list[Any], sw: Any) -> None:
        outs, out_masks, cache = self.forward(xs, training=True)  # type: ignore[attr-defined]
        total, per, grads = self._losses_and_grads(ys, outs, out_masks, sw)
        total += self._penalty()
        self.zero_grad()  # type: ignore[attr-defined]
        self.backward(grads, cache, input_grads=False, release=True)  # type: ignore
        trainable = [layer for layer in regularization.with_sublayers(self.layers)  # type: ignore
                     if layer.trainable]
        for layer in trainable:
            regularization.add_penalty_grads(layer)
        params = dict(self.named_params(trainable_only=True))  # type: ignore[attr-defined]
        gradients = dict(self.named_grads(trainable_only=True))  # type: ignore[attr-defined]
        self.optimizer.apply(params, gradients)
        for layer in trainable:
            regularization.apply_constraints(layer)
        self._update_metrics(total, per, ys, outs, out_masks, sw, batch_len(xs))

    def _test_batch(self, xs: list[Any], ys: list[Any], sw: Any) -> None:
        outs, out_masks, _ = self.forward(  # type: ignore[attr-defined]
            xs, training=False, keep_caches=False)
        total, per, _ = self._losses_and_grads(ys, outs, out_masks, sw)
        total += self._penalty()
        self._update_metrics(total, per, ys, outs, out_masks, sw, batch_len(xs))

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
        outs, _, _ = self.forward(  # type: ignore[attr-defined]
            xs, training=False, keep_caches=False)
        return outs if len(outs) > 1 else outs[0]

    def _result(self, return_dict: bool) -> Any:
        logs = self._logs()
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    # -- fit ---------------------------------------------------------------------------------------
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: Any = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: Any = None,
            sample_weight: Any = None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_steps: int | None = None,
            validation_batch_size: int | None = None, validation_freq: int = 1) -> Any:
        from ..callbacks import CallbackList

        self._require_compiled("training")
        check_class_weight(class_weight, self.n_outputs, sample_weight)  # type: ignore
        verbose = 1 if verbose == "auto" else int(verbose)
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
        train = DataSource.make(self, x, y, sample_weight, batch_size, steps_per_epoch,
                                 shuffle, "x")
        if validation_split and validation_data is None:
            if not train.is_arrays:
                raise ValueError("validation_split is only supported for array inputs; pass "
                                 "validation_data for generators")
            train, val = train.split(validation_split)
        elif validation_data is not None:
            val = DataSource.make_validation(self, validation_data,
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
                if class_weight is not None:
                    cw = class_weight_to_sample_weights(ys[0], class_weight)
                    sw = cw if sw is None else np.asarray(sw) * cw
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
        return self.history  # type: ignore[attr-defined]

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
    def _evaluate_source(self, source: DataSource,
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
        source = DataSource.make(self, x, y, sample_weight, batch_size, steps, False, "x")
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
        batch_size = check_batch_size(batch_size)
        if is_generator_like(x):
            source = DataSource(self, None, None, None, batch_size, steps, False, iterator=x)
        else:
            xs = self._standardize_x(self._as_inputs(x))
            check_lengths(xs, [])
            if batch_len(xs) == 0:
                raise ValueError("predict got an empty input (0 samples)")
            source = DataSource(self, xs, None, None, batch_size, steps, False)
        callback_list = CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=1, steps=source.steps)
        callback_list.on_predict_begin()
        outputs: list[list[Any]] = []
        for step, (xs_b, _, _) in enumerate(source.batches(None, need_y=False)):
            callback_list.on_predict_batch_begin(step)
            outs, _, _ = self.forward(  # type: ignore[attr-defined]
                xs_b, training=False, keep_caches=False)
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


