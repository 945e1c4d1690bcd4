"""``Layer``: the base of every layer.

The engine contract (used by models, tests and users who write layers):

``build(input_shape)``  create parameters for inputs of this shape (batch dimension included,
    possibly None). Called once, on first use.
``forward(inputs, training=False, mask=None) -> (outputs, cache)``  compute outputs; ``cache`` is
    everything ``backward`` needs (a layer keeps no per-call state, so one layer can be called
    several times in one graph).
``backward(d_outputs, cache) -> d_inputs``  gradients with respect to the inputs (same structure);
    parameter gradients are *added* into ``self.grads`` (call ``zero_grad()`` between batches).
``compute_output_shape(input_shape)`` and ``compute_mask(inputs, mask)``  shape and mask
    propagation (a layer with ``supports_masking`` passes the mask through unchanged).

Calling a layer, ``layer(x)``, runs ``forward`` eagerly on arrays (validating the input and
returning only the outputs), or records a node when ``x`` is a symbolic ``Input``.
``get_weights()``/``set_weights()`` use Keras's layout and order; ``state_dict()`` uses PyTorch's
names and layout.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from .. import backend, regularization
from .. import random as rnd
from ..module import Module
from ..symbolic import KerasTensor, Node, is_symbolic

Shape = tuple[int | None, ...]
_NAME_COUNTS: dict[str, int] = {}
_BASE_KEYS = ("name", "dtype", "trainable", "input_shape", "input_dim", "batch_size")


def _snake(name: str) -> str:
    name = re.sub(r"(\d)D\b", r"\1d", name)  # GlobalAveragePooling1D -> ..._pooling1d
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


def unique_name(base: str) -> str:
    """'lstm', then 'lstm_1', 'lstm_2', ... as Keras names layers."""
    count = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


class Layer(Module):
    supports_masking = False
    # keyword arguments of ``__call__`` that go on to ``forward`` (and are kept in the graph
    # node of a symbolic call), e.g. Attention's ``use_causal_mask``
    call_arguments: tuple[str, ...] = ()
    weight_roles: tuple[str, ...] = ()       # Keras names of get_weights(), for regularizers
    keras_only_args: tuple[str, ...] = ()   # Keras arguments accepted and kept in the config

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        allowed = (*_BASE_KEYS, *regularization.accepted_args(type(self)),
                   *type(self).keras_only_args)
        unknown = sorted(set(kwargs) - set(allowed))
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword argument(s) {unknown}; "
                f"the accepted layer arguments are {list(allowed)}"
            )
        regularization.setup(self, kwargs)
        self._inbound_nodes: list[Node] = []
        self.name = kwargs.get("name") or unique_name(_snake(type(self).__name__))
        self.dtype = backend.standardize_dtype(kwargs.get("dtype"))
        self.trainable = bool(kwargs.get("trainable", True))
        input_shape = kwargs.get("input_shape")
        if input_shape is None and kwargs.get("input_dim") is not None:
            input_shape = (int(kwargs["input_dim"]),)
        self.input_shape_arg: Shape | None = (
            tuple(input_shape) if input_shape is not None else None
        )
        self.batch_size: int | None = kwargs.get("batch_size")
        self.built = False
        self.rng_calls = 0

    # -- configuration -----------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["name"] = self.name
        config["dtype"] = self.dtype
        if "seed" in config:
            config["seed"] = self.seed_value()  # resolved, so a rebuilt layer draws the same
        return config

    # -- building ----------------------------------------------------------------------------------
    def build(self, input_shape: Any) -> None:
        self.built = True

    def maybe_build(self, input_shape: Any) -> None:
        if not self.built:
            self.build(input_shape)
            self.built = True

    def layer_rng(self, purpose: int) -> np.random.Generator:
        """Generator for weight initialisation (purpose 0) from the layer's seed."""
        return rnd.generator(self.seed_value(), purpose)

    def seed_value(self) -> int:
        if getattr(self, "_seed_value", None) is None:
            seed = self.__dict__.get("_init_args", {}).get("seed")
            self._seed_value = int(seed) if seed is not None else rnd.next_seed()
        return self._seed_value

    def draw_rng(self) -> np.random.Generator:
        """A fresh generator for one training call (dropout masks): keyed by (seed, call count)."""
        self.rng_calls += 1
        return rnd.generator(self.seed_value(), 1, self.rng_calls)

    # -- engine ------------------------------------------------------------------------------------
    def forward(self, inputs: Any, training: bool = False, mask: Any = None) -> tuple[Any, Any]:
        from . import custom
        if custom.defines_call(self):  # a Keras-style layer: trace call() on the tape
            return custom.traced_call(self, self.call, inputs, training, mask)  # type: ignore
        raise NotImplementedError(f"{type(self).__name__} defines neither forward nor call")

    def infer(self, inputs: Any, training: bool = False, mask: Any = None, **kwargs: Any) -> Any:
        """``forward``'s outputs alone, for a call that will not run ``backward`` (``predict``,
        ``evaluate``, calling the layer on arrays); a layer that can skip work when it keeps no
        backward cache overrides it (``RNN``)."""
        outputs, _ = self.forward(inputs, training=training, mask=mask, **kwargs)
        return outputs

    def backward(self, d_outputs: Any, cache: Any) -> Any:
        from . import custom
        if custom.defines_call(self):
            return custom.traced_backward(self, d_outputs, cache)
        raise NotImplementedError(f"{type(self).__name__} defines neither backward nor call")

    # -- Keras-style custom layers (gradients from the rnnlab.ops tape, see layers/custom.py) --
    def add_weight(self, shape: Any = None, initializer: Any = None, dtype: Any = None,
                   trainable: bool = True, name: str | None = None, regularizer: Any = None,
                   constraint: Any = None, **kwargs: Any) -> Any:
        """Keras's ``add_weight``: a new weight as a ``Variable`` usable in ``call``, with an
        optional ``regularizer`` and ``constraint`` (as Keras applies them)."""
        from . import custom
        return custom.add_weight(self, shape, initializer, dtype, trainable, name, regularizer,
                                 constraint, **kwargs)

    def add_loss(self, loss: Any) -> None:
        """Inside ``call``: add ``loss`` (a scalar tensor) to the training loss."""
        losses = self.__dict__.get("_call_losses")
        if losses is None:
            raise RuntimeError(f"{self.name}.add_loss can only be called inside call()")
        losses.append(loss)

    def backward_params(self, d_outputs: Any, cache: Any) -> None:
        """``backward`` for a layer whose input gradient nobody reads (it is fed by model
        inputs, which are data): adds exactly the same parameter gradients and returns nothing.
        Layers that can skip the input-gradient work (``Dense``, the recurrent layers) override
        it; the default runs ``backward`` and drops the result."""
        self.backward(d_outputs, cache)

    def compute_output_shape(self, input_shape: Any) -> Any:
        from . import custom
        if custom.defines_call(self):
            return custom.infer_output_shape(self, self.call, input_shape)  # type: ignore
        return input_shape

    def compute_mask(self, inputs: Any, mask: Any) -> Any:
        return mask if self.supports_masking else None

    def validate_inputs(self, inputs: Any) -> Any:
        """Cast float inputs to the layer dtype and reject NaN/inf (overridden for ids)."""
        if isinstance(inputs, (list, tuple)):
            return [self.validate_inputs(v) for v in inputs]
        return backend.as_float_array(inputs, self.dtype, f"{self.name} input")

    # -- calling -----------------------------------------------------------------------------------
    def __call__(self, inputs: Any, training: bool = False, mask: Any = None, **kwargs: Any) -> Any:
        initial_state = kwargs.pop("initial_state", None)
        extra = {k: kwargs.pop(k) for k in list(kwargs) if k in self.call_arguments}
        if kwargs:
            raise TypeError(f"{self.name}: unexpected call argument(s) {sorted(kwargs)}")
        if is_symbolic(inputs) or is_symbolic(initial_state):
            return self._symbolic_call(inputs, initial_state, extra)
        inputs = self.validate_inputs(inputs)
        self.maybe_build(_shape_of(inputs))
        if initial_state is not None:
            return self.infer(inputs, training=training, mask=mask, initial_state=initial_state)
        return self.infer(inputs, training=training, mask=mask, **extra)

    def _symbolic_call(self, inputs: Any, initial_state: Any,
                       extra: dict[str, Any] | None = None) -> Any:
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [
                initial_state]
            flat = [inputs] + states
            structure, n_states = "rnn", len(states)
            in_shape: Any = inputs.shape
        elif isinstance(inputs, (list, tuple)):
            flat, structure, n_states = list(inputs), "list", 0
            in_shape = [t.shape for t in flat]
        else:
            flat, structure, n_states = [inputs], "single", 0
            in_shape = inputs.shape
        for t in flat:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"{self.name}: mix of symbolic and concrete inputs: {t!r}")
        self.maybe_build(in_shape)
        out_shape = self.compute_output_shape(in_shape, **extra) if extra else (
            self.compute_output_shape(in_shape))
        node = Node(self, flat, structure, n_states, call_kwargs=dict(extra or {}))
        in_mask = flat[0].has_mask if structure != "list" else any(t.has_mask for t in flat)
        multi = isinstance(out_shape, list)
        shapes = out_shape if multi else [out_shape]
        out_mask = self.compute_mask(None, True if in_mask else None) is not None
        node.outputs = [
            KerasTensor(tuple(s), self.dtype, node, i, has_mask=out_mask and i == 0,
                        name=f"{self.name}/out{i}")
            for i, s in enumerate(shapes)
        ]
        node.multi_output = multi
        self._inbound_nodes.append(node)
        return node.outputs if multi else node.outputs[0]

    # -- symbolic input/output (Keras's ``layer.input``/``layer.output``) ------------------------
    def _first_node(self, what: str) -> Node:
        nodes = self.__dict__.get("_inbound_nodes") or []
        if not nodes:
            raise AttributeError(f"Layer {self.name!r} has never been called on a symbolic "
                                 f"input, so it has no defined {what}")
        return nodes[0]

    @property
    def input(self) -> Any:
        """The symbolic input of the layer's first call (a list for several inputs)."""
        node = self._first_node("input")
        if node.structure == "single":
            return node.inputs[0]
        return list(node.inputs)

    @property
    def output(self) -> Any:
        """The symbolic output of the layer's first call (a list for several outputs)."""
        node = self._first_node("output")
        return list(node.outputs) if node.multi_output else node.outputs[0]

    def reset_state(self) -> None:
        """Keras 3's name: zero the kept states of a stateful layer (``reset_states()``)."""
        reset = getattr(self, "reset_states", None)
        if reset is not None:
            reset()

    # -- weights -----------------------------------------------------------------------------------
    @property
    def weights(self) -> list[np.ndarray]:
        """Keras's ``layer.weights``: the weights as arrays in Keras's layout and order (copies,
        as ``get_weights()``: assign with ``set_weights``)."""
        return self.get_weights()

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        """The weights the optimizer updates (none when ``trainable`` is False)."""
        return self.weights[:self._n_trainable()] if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        """Buffers such as BatchNormalization's moving statistics, and every weight of a layer
        that is not trainable."""
        return self.weights[self._n_trainable():] if self.trainable else self.weights

    def _n_trainable(self) -> int:
        """How many leading ``get_weights()`` arrays are parameters (the rest are buffers)."""
        n_buffers = sum(1 for _ in self.named_buffers())
        return len(self.get_weights()) - n_buffers

    def get_weights(self) -> list[np.ndarray]:
        """Weights in Keras's order and layout (copies)."""
        return [v.copy() for _, v in self.named_params()] + [
            v.copy() for _, v in self.named_buffers()]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        targets = [v for _, v in self.named_params()] + [v for _, v in self.named_buffers()]
        _assign(self.name, targets, weights)


def _assign(name: str, targets: list[np.ndarray], weights: list[Any]) -> None:
    if len(weights) != len(targets):
        raise ValueError(
            f"{name}: expected {len(targets)} weight arrays with shapes "
            f"{[t.shape for t in targets]}, got {len(weights)}"
        )
    for i, (t, w) in enumerate(zip(targets, weights)):
        w = np.asarray(w)
        if w.shape != t.shape:
            raise ValueError(f"{name}: weight {i} expected shape {t.shape}, got {w.shape}")
        t[...] = w


def _shape_of(inputs: Any) -> Any:
    if isinstance(inputs, (list, tuple)):
        return [tuple(np.shape(v)) for v in inputs]
    return tuple(np.shape(inputs))
