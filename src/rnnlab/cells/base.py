"""The cell contract: what a recurrent cell provides so ``rnnlab.layers.RNN`` can run it.

A cell computes **one time step**; the generic ``RNN`` layer runs it over a sequence, handles
masks, dropout masks, ``go_backwards``, initial states, truncation and the backward sweep.
Shapes: N batch, T steps, D input features, H = ``units``, P = width of the projected input.

A cell provides:

``state_size``  tuple of ints, one per state tensor (``(H,)`` or ``(H, H)`` for LSTM's (h, c)).
``output_size`` int, the width of ``y_t``.
``build(input_dim, dtype, rng)``  create ``self.params`` (and zeroed ``self.grads``).
``project_inputs(x)``  ``(N, T, D) -> (N, T, P)``: the work that does not depend on the state,
    done for all steps at once (one matrix product for the built-in cells). Default: identity.
``step(p_t, state, rec_mask)``  ``-> (y_t, new_state, cache)``: one step from the projected input
    ``p_t (N, P)`` and the previous state (a tuple of ``(N, size)`` arrays). ``rec_mask`` is the
    recurrent-dropout mask ``(N, H)`` or None. ``cache`` holds what the backward step needs.
``step_backward(dy_t, dstate, cache)``  ``-> (dp_t, dstate_prev)``: gradient of the loss with
    respect to ``p_t`` and to the previous state, given the gradients with respect to ``y_t`` and
    the new state. It must be linear in ``(dy_t, dstate)`` and must not touch ``self.grads``.
``params_backward(x, dP, caches)``  ``-> dX``: add every parameter gradient into ``self.grads``
    from the stacked step gradients ``dP (N, T, P)`` and the per-step caches (in time order), and
    return ``dX (N, T, D)``. Doing this once per sequence turns T small products into one large one.
``gate_values(cache)``  optional, for introspection: the step's activated gates by name, each
    ``(N, H)``, read from the cache ``step`` returned (views, not copies). Default: ``{}``.
    ``gate_names`` lists them in order (a compiled sweep keeps them side by side in that order).
``new_state_grads(dy_t, dstate, cache)``  optional, for introspection: the total gradients of
    the step's new states from the gradients ``step_backward`` receives. Default:
    ``(dy_t + dstate[0],)``, the hidden state of a cell whose output is its first state (LSTM
    adds ``c_t``'s).

Optionally, a compiled sweep (how the built-in cells run fast; a user's cell does the same):

``compiled_sweep()``  ``-> CompiledSweep | None`` (``rnnlab.kernels.driver``). A cell returning
    one for its current configuration runs on it; None (the default) runs the reference loop
    (``rnnlab.layers.sweep``). The sweep is a subclass of ``CompiledSweep`` setting ``gates``
    (``P`` has ``gates·units`` columns; the cell has ``units``, ``params`` ``weight_ih``,
    ``weight_hh`` (+ ``bias_ih``/``bias_hh`` with ``use_bias``/``recurrent_bias``)) and
    implementing, over the time-major buffers of ``driver.Seq``:
    ``allocate(q, state, start)`` its own buffers (``q.extra``); ``run_forward(q)`` all steps;
    ``run_backward(q, W, dY, dZ, ds, lo, hi, dlo, dhi, acc)`` BPTT over one window;
    optionally ``final_state(q)``, ``recurrent_grads(q, cell, dZ2, prev2, bsum)``,
    ``step_states(q)`` (per-step states and gate activations for introspection) and
    ``state_grads`` > 0 with a ``dS`` argument of ``run_backward`` (per-step state gradients for
    ``RNN.backward_with_state_grads``; the built-in sweeps' backward kernels take them) and
    ``adds_input_bias`` (its kernel adds ``q.bih`` to each step's ``P[t]``, as
    ``forward_position`` does, instead of getting ``P`` with ``b_ih`` already added). Each
    ``run_*`` calls a numba kernel on batch row blocks (``_numba_kernels.parallel_rows``);
    ``_numba_kernels`` has the shared pieces (``positions``, ``output_grads`` (a row),
    ``output_grad`` (an element), ``mm_panels``, ``recurrent_operand``, ``forward_position``,
    ``finish_masked``, ``skip_masked_row``, ``add_hidden_grad``, ``add_rows``, ``vtanh``).
    ``rnnlab.gradcheck.check_compiled(layer, x)`` compares it with the reference step; the
    built-in cells keep theirs in ``<cell>/sweep.py`` beside ``<cell>/cell.py``.

Introspection and inference: ``RNN.trace(x)`` returns every step's states and gate activations
from the same sweeps, keeping no backward cache (``keep_cache=False`` of ``driver.forward`` /
``layers.sweep.reference_forward``); ``RNN.backward_with_state_grads`` every step's state
gradients from the same backward sweeps (``state_grads=True`` of ``driver.backward`` /
``layers.sweep.reference_backward``).

``rnnlab.gradcheck.check_cell`` verifies a cell against central differences (on the reference
loop, so it checks ``step_backward`` itself). Built-in cells store
their weights in PyTorch's layout (``weight_ih (G·H, D)``, ``weight_hh (G·H, H)``, ``bias_ih``,
``bias_hh``) and convert to Keras's layout in ``get_keras_weights``/``set_keras_weights``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .. import activations, initializers
from ..kernels import numba_status
from ..module import Module
from .arguments import DeclaredArgs, arg

Array = np.ndarray
State = tuple[Array, ...]


class Cell(Module):
    """Base of all cells. Subclasses implement the contract above."""

    state_size: tuple[int, ...] = ()
    output_size: int = 0
    gate_names: tuple[str, ...] = ()

    def build(self, input_dim: int, dtype: str, rng: np.random.Generator) -> None:
        self.input_dim = input_dim
        self.dtype = dtype
        self.built = True

    def initial_state(self, batch: int, dtype: str) -> State:
        return tuple(np.zeros((batch, size), dtype=dtype) for size in self.state_size)

    def project_inputs(self, x: Array) -> Array:
        return x

    def step(self, p_t: Array, state: State, rec_mask: Array | None) -> tuple[Array, State, Any]:
        raise NotImplementedError

    def step_backward(self, dy: Array, dstate: State, cache: Any) -> tuple[Array, State]:
        raise NotImplementedError

    def params_backward(self, x: Array, dP: Array, caches: list[Any]) -> Array:
        return dP

    def gate_values(self, cache: Any) -> dict[str, Array]:
        """The activated gates of one step by name (``{}``: a cell without gates)."""
        return {}

    def new_state_grads(self, dy: Array, dstate: State, cache: Any) -> State:
        """Total gradients of the step's new states, given the gradients ``step_backward``
        receives: ``(dy + dstate[0],)``, for a cell whose output is its first state."""
        return (dy + dstate[0],)

    def compiled_sweep(self) -> Any | None:
        """The compiled sweep for the cell's current configuration (a
        ``rnnlab.kernels.driver.CompiledSweep``), or None: the reference loop runs it."""
        return None


class GatedCell(DeclaredArgs, Cell):
    """Shared machinery of SimpleRNN/LSTM/GRU cells: G gate blocks of H units in PyTorch layout.

    Constructor arguments (``rnnlab.cells.arguments``): ``units`` (by position or keyword) and,
    by keyword, the ones declared below, shared by every gated cell, then the cell's own (LSTM:
    ``recurrent_activation``, ``unit_forget_bias``; GRU: ``recurrent_activation``,
    ``reset_after``). ``recurrent_bias`` None: the Keras layout of the cell (one bias vector;
    GRU with ``reset_after``: two).

    ``keras_blocks[j]`` is the Keras block that holds PyTorch block j (GRU: r,z,n <- z,r,h).
    Keras-layout weights are ``kernel (D, G·H)``, ``recurrent_kernel (H, G·H)`` and ``bias``:
    ``(G·H,)`` with one bias, ``(2, G·H)`` (input row, recurrent row) with two.
    """

    gates: ClassVar[int] = 1
    keras_blocks: ClassVar[tuple[int, ...]] = (0,)

    units: int = arg(kw_only=False)
    activation: str | None = arg(default="tanh", kw_only=False)  # second, as in Keras
    use_bias: bool = True
    kernel_initializer: Any = "glorot_uniform"
    recurrent_initializer: Any = "orthogonal"
    bias_initializer: Any = "zeros"
    recurrent_bias: bool | None = None
    dropout: float = 0.0
    recurrent_dropout: float = 0.0

    def configure(self) -> None:
        units = self.units
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"units must be a positive integer, got {units!r}")
        for what in ("dropout", "recurrent_dropout"):
            rate = getattr(self, what)
            if not 0.0 <= float(rate) < 1.0:
                raise ValueError(f"{what} must be in [0, 1), got {rate!r}")
        self.units = int(units)
        self.activation_name = self.activation or "linear"
        self.act, self.dact = activations.get(self.activation)
        recurrent_activation = getattr(self, "recurrent_activation", None)  # SimpleRNN: none
        self.recurrent_activation_name = recurrent_activation or "linear"
        self.ract, self.dract = activations.get(recurrent_activation)
        self.kernel_initializer = initializers.get(self.kernel_initializer)
        self.recurrent_initializer = initializers.get(self.recurrent_initializer)
        self.bias_initializer = initializers.get(self.bias_initializer)
        self.recurrent_bias = bool(self.use_bias) and bool(
            self.default_recurrent_bias() if self.recurrent_bias is None else self.recurrent_bias
        )
        self.use_bias = bool(self.use_bias)
        self.dropout = float(self.dropout)
        self.recurrent_dropout = float(self.recurrent_dropout)
        self.state_size = (self.units,)
        self.output_size = self.units

    def default_recurrent_bias(self) -> bool:
        """Keras layout: one bias vector (GRU with reset_after overrides: two)."""
        return False

    # -- weights ---------------------------------------------------------------------------------
    def _init(self, init: initializers.Initializer, shape: tuple[int, ...],
              rng: np.random.Generator, dtype: str) -> Array:
        if isinstance(init, initializers.TorchUniform) and init.hidden_size is None:
            init = initializers.TorchUniform(self.units)
        return init(shape, rng, dtype)

    def build(self, input_dim: int, dtype: str, rng: np.random.Generator) -> None:
        super().build(input_dim, dtype, rng)
        gh = self.gates * self.units
        self.params, self.grads = {}, {}
        kernel = self._init(self.kernel_initializer, (input_dim, gh), rng, dtype)
        recurrent = self._init(self.recurrent_initializer, (self.units, gh), rng, dtype)
        bias = None
        if self.use_bias:
            rows = 2 if self.recurrent_bias else 1
            bias = np.stack([self.keras_bias(rng, dtype) for _ in range(rows)])
            bias = bias if self.recurrent_bias else bias[0]
        self.add_param("weight_ih", np.empty((gh, input_dim), dtype=dtype))
        self.add_param("weight_hh", np.empty((gh, self.units), dtype=dtype))
        if self.use_bias:
            self.add_param("bias_ih", np.empty(gh, dtype=dtype))
            if self.recurrent_bias:
                self.add_param("bias_hh", np.empty(gh, dtype=dtype))
        self.set_keras_weights([kernel, recurrent] + ([bias] if bias is not None else []))

    def keras_bias(self, rng: np.random.Generator, dtype: str) -> Array:
        """One bias row in Keras's gate order."""
        return self._init(self.bias_initializer, (self.gates * self.units,), rng, dtype)

    def _to_torch(self, a: Array) -> Array:
        """Keras columns (..., G·H) in Keras gate order -> PyTorch gate order."""
        h = self.units
        return np.concatenate([a[..., k * h:(k + 1) * h] for k in self.keras_blocks], axis=-1)

    def _to_keras(self, a: Array) -> Array:
        h = self.units
        blocks: list[Array] = [a[..., :0]] * self.gates
        for j, k in enumerate(self.keras_blocks):
            blocks[k] = a[..., j * h:(j + 1) * h]
        return np.concatenate(blocks, axis=-1)

    def keras_weight_shapes(self) -> list[tuple[int, ...]]:
        gh = self.gates * self.units
        shapes: list[tuple[int, ...]] = [(self.input_dim, gh), (self.units, gh)]
        if self.use_bias:
            shapes.append((2, gh) if self.recurrent_bias else (gh,))
        return shapes

    def get_keras_weights(self) -> list[Array]:
        """[kernel (D, G·H), recurrent_kernel (H, G·H), bias] in Keras gate order."""
        out = [self._to_keras(self.params["weight_ih"].T),
               self._to_keras(self.params["weight_hh"].T)]
        if self.use_bias:
            if self.recurrent_bias:
                out.append(np.stack([self._to_keras(self.params["bias_ih"]),
                                     self._to_keras(self.params["bias_hh"])]))
            else:
                out.append(self._to_keras(self.params["bias_ih"]))
        return [np.array(w, order="C") for w in out]  # copies, never views of the parameters

    def set_keras_weights(self, weights: list[Array]) -> None:
        expected = self.keras_weight_shapes()
        if len(weights) != len(expected):
            raise ValueError(
                f"{type(self).__name__} expects {len(expected)} weight arrays with shapes "
                f"{expected}, got {len(weights)}"
            )
        for i, (w, shape) in enumerate(zip(weights, expected)):
            if np.shape(w) != shape:
                raise ValueError(
                    f"weight {i} of {type(self).__name__}: expected shape {shape}, "
                    f"got {np.shape(w)}"
                )
        self.params["weight_ih"][...] = self._to_torch(np.asarray(weights[0])).T
        self.params["weight_hh"][...] = self._to_torch(np.asarray(weights[1])).T
        if self.use_bias:
            bias = np.asarray(weights[2])
            if self.recurrent_bias:
                self.params["bias_ih"][...] = self._to_torch(bias[0])
                self.params["bias_hh"][...] = self._to_torch(bias[1])
            else:
                self.params["bias_ih"][...] = self._to_torch(bias)

    def compiled_available(self) -> bool:
        """Whether a compiled sweep can run this cell at all: a float32/float64 cell and a
        usable numba (``rnnlab.kernels.numba_status``)."""
        return getattr(self, "dtype", None) in ("float32", "float64") and numba_status()[0]

    # -- shared sequence-level pieces
    def project_inputs(self, x: Array) -> Array:
        """``x (N, T, D) -> x @ weight_ih.T + bias_ih  (N, T, G·H)``, one product for all steps."""
        p = (x.reshape(-1, x.shape[-1]) @ self.params["weight_ih"].T).reshape(x.shape[:-1] + (-1,))
        if self.use_bias:
            p += self.params["bias_ih"]
        return p

    def _input_params_backward(self, x: Array, dP: Array) -> Array:
        """Input-side parameter gradients from ``dP (N, T, G·H)``; returns ``dX (N, T, D)``."""
        dp2 = dP.reshape(-1, dP.shape[-1])
        self.grads["weight_ih"] += dp2.T @ x.reshape(-1, x.shape[-1])
        if self.use_bias:
            self.grads["bias_ih"] += dp2.sum(axis=0)
        return (dp2 @ self.params["weight_ih"]).reshape(x.shape)

    def _recurrent_params_backward(self, dR: Array, operand: Array) -> None:
        """``weight_hh``/``bias_hh`` gradients from recurrent pre-activation grads and operands."""
        dr2 = dR.reshape(-1, dR.shape[-1])
        self.grads["weight_hh"] += dr2.T @ operand.reshape(-1, operand.shape[-1])
        if self.recurrent_bias:
            self.grads["bias_hh"] += dr2.sum(axis=0)


def stack_cached(caches: list[Any], index: int) -> Array:
    """Stack item ``index`` of every step's cache along a new time axis: ``(N, T, ...)``."""
    return np.stack([c[index] for c in caches], axis=1)
