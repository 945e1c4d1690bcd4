"""The data adapter: from what ``fit``/``evaluate``/``predict`` are given to lists of arrays.

Data may be arrays (one per model input/output, or dicts keyed by input/output name), Python
generators or iterables yielding ``(x, y)`` or ``(x, y, sample_weight)`` batches, or Keras
``Sequence``/``PyDataset``-like objects (``__len__`` and ``__getitem__``, optional
``on_epoch_end``). Shuffling draws from a generator keyed by the model's seed and the epoch
number, so ``fit(epochs=4)`` equals ``fit(epochs=2)`` + save + load + ``fit(epochs=4,
initial_epoch=2)`` exactly.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import random as rnd
from ..backend import as_float_array
from ..validation import check_targets


class InputAdapter:
    """Mixin for models: standardise inputs and targets to lists of arrays."""

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


    def _prepare(self, x: Any, y: Any) -> tuple[list[Any], list[Any]]:
        xs = self._standardize_x(self._as_inputs(x))
        ys = self._as_outputs(y)
        check_lengths(xs, ys)
        return xs, ys


class DataSource:
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
        self.steps: int | None
        if self.is_arrays and xs is not None:
            n = batch_len(xs)
            full = -(-n // self.batch_size)
            self.steps = min(full, steps) if steps else full
        elif hasattr(iterator, "__len__") and hasattr(iterator, "__getitem__"):
            self.steps = steps or len(iterator)
        else:
            self.steps = steps

    @classmethod
    def make(cls, model: Any, x: Any, y: Any, sw: Any, batch_size: int | None,
             steps: int | None, shuffle: bool, what: str) -> DataSource:
        if x is None:
            raise ValueError(f"no training data: pass {what}")
        if is_generator_like(x):
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
        batch_size = check_batch_size(batch_size)
        xs, ys = model._prepare(x, y)
        if sw is not None:
            sw = np.asarray(sw)
            if sw.shape[0] != batch_len(xs):
                raise ValueError(f"sample_weight has {sw.shape[0]} samples but x has "
                                 f"{batch_len(xs)}")
        check_targets(ys, sw, model.output_names, " in validation_data" if what == "x_val" else "")
        return cls(model, xs, ys, sw, batch_size, steps, shuffle)

    @classmethod
    def make_validation(cls, model: Any, data: Any, batch_size: int | None,
                        steps: int | None) -> DataSource:
        if is_generator_like(data):
            return cls(model, None, None, None, 32, steps, False, iterator=data)
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise ValueError("validation_data must be (x_val, y_val) or (x_val, y_val, "
                             f"sample_weight), got {type(data).__name__} of length "
                             f"{len(data) if hasattr(data, '__len__') else '?'}")
        sw = data[2] if len(data) == 3 else None
        return cls.make(model, data[0], data[1], sw, batch_size, steps, False, "x_val")

    def split(self, fraction: float) -> tuple[DataSource, DataSource]:
        """Keras's validation_split: the last ``fraction`` of samples, taken before shuffling."""
        assert self.xs is not None and self.ys is not None
        n = batch_len(self.xs)
        cut = int(n * (1.0 - fraction))
        if cut == 0 or cut == n:
            raise ValueError(f"validation_split={fraction} leaves an empty part of {n} samples")
        sw_a = self.sw[:cut] if self.sw is not None else None
        sw_b = self.sw[cut:] if self.sw is not None else None
        a = DataSource(self.model, [v[:cut] for v in self.xs], [v[:cut] for v in self.ys], sw_a,
                        self.batch_size, None, self.shuffle)
        b = DataSource(self.model, [v[cut:] for v in self.xs], [v[cut:] for v in self.ys], sw_b,
                        self.batch_size, None, False)
        return a, b

    def batches(self, epoch: int | None, need_y: bool = True) -> Iterator[tuple[Any, Any, Any]]:
        if self.is_arrays:
            yield from self._array_batches(epoch)
        else:
            yield from self._iterator_batches(need_y, epoch)

    def _array_batches(self, epoch: int | None) -> Iterator[tuple[Any, Any, Any]]:
        assert self.xs is not None
        n = batch_len(self.xs)
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

    def _iterator_batches(self, need_y: bool, epoch: int | None = None
                          ) -> Iterator[tuple[Any, Any, Any]]:
        it = self.iterator
        if hasattr(it, "__getitem__") and hasattr(it, "__len__"):
            # Keras shuffles the order of a Sequence's batches each epoch (fit(shuffle=True))
            n = len(it)
            order = (rnd.generator(self.model.shuffle_seed, 3, epoch).permutation(n)
                     if self.shuffle and epoch is not None else np.arange(n))
            for step in range(self.steps or n):
                yield self._unpack(it[int(order[step]) if step < n else step], need_y)
            if hasattr(it, "on_epoch_end"):
                it.on_epoch_end()
            return
        if self._live is None:
            self._live = iter(it)
        step = 0
        while self.steps is None or step < self.steps:
            try:
                item = next(self._live)  # type: ignore[arg-type]
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
            check_lengths(xs, ys)
        check_targets(ys, sw, model.output_names, " in a batch the data yielded")
        return xs, ys, sw


def takes_ids(layer: Any) -> bool:
    """True for layers fed integer token ids (Embedding, also wrapped in TimeDistributed)."""
    if getattr(layer, "takes_integer_ids", False):
        return True
    inner = getattr(layer, "layer", None)
    return inner is not None and inner is not layer and takes_ids(inner)


def check_batch_size(batch_size: Any) -> int:
    """Keras's default 32 for None; anything else must be a positive integer."""
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or (
            batch_size <= 0):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return int(batch_size)


def is_generator_like(x: Any) -> bool:
    if x is None or isinstance(x, (np.ndarray, list, tuple, dict, str)):
        return False
    return hasattr(x, "__next__") or hasattr(x, "__iter__") or (
        hasattr(x, "__getitem__") and hasattr(x, "__len__"))


def batch_len(xs: list[Any]) -> int:
    return int(np.shape(xs[0])[0])


def check_lengths(xs: list[Any], ys: list[Any]) -> None:
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




def class_weight_to_sample_weights(y: Any, class_weight: dict[Any, float]) -> np.ndarray:
    """Keras's per-sample weights from ``class_weight`` (``{class index: weight}``, 1 for
    classes not listed): the class of a sample is its integer label, or the argmax of a one-hot
    / probability row; a trailing axis of size 1 is dropped first."""
    y = np.asarray(y)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else np.squeeze(y, axis=-1)
    if y.ndim != 1:
        raise ValueError(f"class_weight needs one class per sample; the targets have shape "
                         f"{np.shape(y)} after taking the class axis")
    labels = np.round(y).astype(np.int64)
    return np.array([float(class_weight.get(int(k), 1.0)) for k in labels], dtype="float32")


def check_class_weight(class_weight: Any, n_outputs: int, sample_weight: Any) -> None:
    if class_weight is None:
        return
    if not isinstance(class_weight, dict):
        raise ValueError("class_weight must be a dict {class index: weight}, got "
                         f"{type(class_weight).__name__}")
    if n_outputs != 1:
        raise ValueError("class_weight is only supported for models with a single output "
                         f"(this one has {n_outputs}); pass sample_weight instead")
    if sample_weight is not None:
        raise ValueError("You cannot give class_weight and sample_weight at the same time: "
                         "multiply them into one sample_weight")
