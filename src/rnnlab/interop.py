"""Conversion between rnnlab models and PyTorch's ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU``.

    from rnnlab.interop import from_torch, to_torch

    model = from_torch(torch_lstm)        # Sequential; model.predict(x) == torch_lstm(x)[0]
    module = to_torch(model)              # nn.LSTM(batch_first=True), same weights and dtype

PyTorch is imported lazily, inside the functions: ``import rnnlab`` never imports it.

``from_torch(module)`` maps torch layer ``k`` to one rnnlab layer (``SimpleRNN``, ``LSTM`` or
``GRU`` with ``return_sequences=True``, ``recurrent_bias=True``, ``use_bias=module.bias`` and
the module's dtype), wrapped in ``Bidirectional(merge_mode="concat")`` for a bidirectional module
(``*_reverse`` weights -> the backward layer). rnnlab models are batch-major: ``predict`` takes
``(N, T, D)`` and returns the module's ``output`` as ``(N, T, dirs * H)``, whatever the module's
``batch_first``. Weights are copied exactly (both libraries store PyTorch's layout).

Mapping of names (layer ``k``; ``<name>`` is the rnnlab layer's name)::

    weight_ih_l{k}          <name>/cell.weight_ih                  (unidirectional)
    weight_ih_l{k}          <name>/forward_layer.cell.weight_ih    (bidirectional)
    weight_ih_l{k}_reverse  <name>/backward_layer.cell.weight_ih
    ... likewise weight_hh, bias_ih, bias_hh

``module.dropout`` (between layers, training only) has no effect at inference, so it does not
change ``predict``. It is recorded on the model as ``model.torch_dropout`` (``to_torch`` restores
it; a plain attribute, not kept by ``model.save``), or, with
``from_torch(module, dropout_layers=True)``, as ``Dropout(rate)`` layers between the recurrent
layers (saved with the model), which is the same operation in training (inverted dropout of each
layer's outputs, an independent mask per element and step).

``to_torch(model)`` accepts a ``Sequential`` of recurrent layers that PyTorch can hold in one
module: all ``SimpleRNN`` (tanh or relu), all ``LSTM`` or all ``GRU`` (``reset_after=True``),
tanh activation and sigmoid recurrent activation for the gated cells, the same ``units``, the
same dtype, ``return_sequences=True`` everywhere, either every layer or none wrapped in
``Bidirectional(merge_mode="concat")``, optionally the same ``Dropout(rate)`` between every two
recurrent layers. A generic ``RNN`` with a list of cells counts as one layer per cell. Layers
without a recurrent bias (Keras's single-bias layout) export ``bias_hh`` as zeros, and layers
without biases export zero biases when other layers have them, so the function is identical.
Anything else is a ValueError that names what is not supported. Settings that only act in
training and that PyTorch has no equivalent for (a cell's ``dropout``/``recurrent_dropout``,
``truncate_gradient``, other ``Dropout`` placements) are errors too, unless
``inference_only=True``, which drops them. A layer with ``trainable=False`` gives parameters
with ``requires_grad=False``.

Helpers: ``torch_state_dict_to_rnnlab(state_dict, model)`` renames (and checks) a PyTorch state
dict for ``model.load_state_dict``; ``rnnlab_state_dict_to_torch(model)`` gives the arrays of
``to_torch(model).state_dict()`` by PyTorch name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .cells import GRUCell, LSTMCell, SimpleRNNCell
from .cells.base import GatedCell
from .layers.base import Layer
from .layers.bidirectional import Bidirectional
from .layers.core import Dropout
from .layers.recurrent import GRU, LSTM, RNN, SimpleRNN
from .models.sequential import Sequential
from .module import Module

__all__ = ["from_torch", "rnnlab_state_dict_to_torch", "to_torch",
           "torch_state_dict_to_rnnlab"]

#: PyTorch's ``module.mode`` -> (rnnlab cell class, activation of SimpleRNN).
_MODES: dict[str, tuple[type[GatedCell], str | None]] = {
    "RNN_TANH": (SimpleRNNCell, "tanh"),
    "RNN_RELU": (SimpleRNNCell, "relu"),
    "LSTM": (LSTMCell, None),
    "GRU": (GRUCell, None),
}
_PARAMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("rnnlab.interop needs PyTorch: pip install torch") from exc
    return torch


def _torch_name(param: str, k: int, direction: int) -> str:
    return f"{param}_l{k}" + ("_reverse" if direction else "")


def _numpy(value: Any) -> np.ndarray:
    """A tensor (any device) or array-like as a NumPy array, without importing torch."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


# -- torch -> rnnlab -------------------------------------------------------------------------------
def from_torch(module: Any, *, dropout_layers: bool = False) -> Sequential:
    """An rnnlab ``Sequential`` computing ``module``'s output sequence (see the module docstring).

    ``module``: ``torch.nn.RNN`` (tanh or relu), ``nn.LSTM`` (``proj_size=0``) or ``nn.GRU``, any
    ``num_layers``, ``bidirectional``, ``batch_first`` and ``bias``, float32 or float64 (kept).
    ``model.predict(x)`` with ``x (N, T, input_size)`` equals ``module(x)[0]`` in batch-first
    layout with the module in eval mode (``module.dropout`` only acts in training; it is kept as
    ``model.torch_dropout`` and, with ``dropout_layers=True``, as ``Dropout`` layers between the
    recurrent layers). Weights are copied; the model shares no memory with the module.
    """
    torch = _import_torch()
    nn = torch.nn
    if not isinstance(module, (nn.RNN, nn.LSTM, nn.GRU)):
        raise ValueError(
            f"from_torch supports torch.nn.RNN, torch.nn.LSTM and torch.nn.GRU modules, got "
            f"{type(module).__module__}.{type(module).__qualname__}")
    mode = getattr(module, "mode", None)
    if mode not in _MODES:
        raise ValueError(f"from_torch: unsupported recurrent mode {mode!r} of "
                         f"{type(module).__name__}; expected one of {sorted(_MODES)}")
    if getattr(module, "proj_size", 0):
        raise ValueError(
            f"from_torch: LSTM with proj_size={module.proj_size} (projected hidden state) is not "
            f"supported; rnnlab's LSTM has no projection (use proj_size=0)")
    dirs = 2 if module.bidirectional else 1
    names = [_torch_name(p, k, d) for k in range(module.num_layers) for d in range(dirs)
             for p in _PARAMS[:4 if module.bias else 2]]
    tensors = {name: getattr(module, name) for name in names}
    dtypes = {t.dtype for t in tensors.values()}
    if len(dtypes) != 1:
        raise ValueError(f"from_torch: the module's parameters mix dtypes "
                         f"{sorted(map(str, dtypes))}; convert it with module.float() or "
                         f"module.double() first")
    dtype = {torch.float32: "float32", torch.float64: "float64"}.get(dtypes.pop())
    if dtype is None:
        raise ValueError(f"from_torch supports float32 and float64 modules, got "
                         f"{next(iter(tensors.values())).dtype}; use module.float() or "
                         f"module.double()")
    rate = float(module.dropout)
    layers: list[Layer] = []
    for k in range(module.num_layers):
        trainable = any(tensors[_torch_name(p, k, d)].requires_grad for d in range(dirs)
                        for p in _PARAMS[:2])
        rnn = _make_layer(mode, module.hidden_size, bool(module.bias), dtype, trainable)
        layer: Layer = (Bidirectional(rnn, merge_mode="concat", trainable=trainable)
                        if module.bidirectional else rnn)
        if dropout_layers and rate > 0 and k > 0:
            layers.append(Dropout(rate, dtype=dtype))
        layers.append(layer)
    model = Sequential(layers)
    model.build((None, None, module.input_size))
    model.load_state_dict(torch_state_dict_to_rnnlab(
        {name: _numpy(t) for name, t in tensors.items()}, model))
    model.torch_dropout = rate  # type: ignore[attr-defined]
    return model


def _make_layer(mode: str, units: int, bias: bool, dtype: str, trainable: bool) -> RNN:
    """One torch-equivalent layer; PyTorch's initialisation, so a rebuilt config starts alike."""
    kw: dict[str, Any] = dict(
        use_bias=bias, recurrent_bias=True, return_sequences=True, dtype=dtype,
        trainable=trainable, kernel_initializer="torch_uniform",
        recurrent_initializer="torch_uniform", bias_initializer="torch_uniform")
    cell_cls, activation = _MODES[mode]
    if cell_cls is SimpleRNNCell:
        return SimpleRNN(units, activation=activation, **kw)
    if cell_cls is LSTMCell:
        return LSTM(units, unit_forget_bias=False, **kw)
    return GRU(units, reset_after=True, **kw)


# -- model analysis --------------------------------------------------------------------------------
@dataclass
class _Slot:
    """One direction of one torch layer: the rnnlab cell and where its parameters live."""

    layer: Layer        # the model's top-level layer
    path: str           # the cell's dotted path inside ``layer`` ("cell", "forward_layer.cell")
    cell: GatedCell


@dataclass
class _Plan:
    mode: str
    input_size: int
    hidden_size: int
    bidirectional: bool
    dtype: str
    bias: bool
    dropout: float
    slots: list[list[_Slot]] = field(default_factory=list)   # [torch layer][direction]
    trainable: list[bool] = field(default_factory=list)


def _path_to(root: Module, target: Module, prefix: str = "") -> str | None:
    for name, child in root.children().items():
        if child is target:
            return prefix + name
        found = _path_to(child, target, f"{prefix}{name}.")
        if found is not None:
            return found
    return None


def _unsupported(what: str) -> ValueError:
    return ValueError(f"to_torch: {what} is not supported by a PyTorch nn.RNN/LSTM/GRU module")


def _cell_mode(cell: Any, where: str, inference_only: bool) -> str:
    kind = type(cell)
    if kind not in (SimpleRNNCell, LSTMCell, GRUCell):
        raise _unsupported(f"{where}: cell type {kind.__name__} (only SimpleRNNCell, LSTMCell "
                           f"and GRUCell)")
    act = cell.activation_name
    if kind is SimpleRNNCell:
        if act not in ("tanh", "relu"):
            raise _unsupported(f"{where}: SimpleRNN activation {act!r} (only 'tanh' and 'relu')")
        mode = "RNN_TANH" if act == "tanh" else "RNN_RELU"
    else:
        name = "LSTM" if kind is LSTMCell else "GRU"
        if act != "tanh":
            raise _unsupported(f"{where}: {name} activation {act!r} (only 'tanh')")
        if cell.recurrent_activation_name != "sigmoid":
            raise _unsupported(f"{where}: {name} recurrent_activation "
                               f"{cell.recurrent_activation_name!r} (only 'sigmoid')")
        if kind is GRUCell and not cell.reset_after:
            raise _unsupported(f"{where}: GRU with reset_after=False (PyTorch's GRU is the "
                               f"reset_after=True form)")
        mode = name
    if not inference_only:
        for attr in ("dropout", "recurrent_dropout"):
            if getattr(cell, attr):
                raise _unsupported(
                    f"{where}: {attr}={getattr(cell, attr)} (a per-sequence mask; pass "
                    f"inference_only=True to drop it)")
    if not cell.built:
        raise ValueError(f"to_torch: {where} is not built; build the model first "
                         f"(model.build((None, timesteps, features)) or call it on data)")
    return mode


def _check_rnn(layer: Any, where: str, inference_only: bool, backwards: bool = False) -> None:
    if not isinstance(layer, RNN):
        raise _unsupported(f"{where}: layer type {type(layer).__name__} (only SimpleRNN, LSTM, "
                           f"GRU, RNN and Bidirectional)")
    if not layer.return_sequences:
        raise _unsupported(f"{where}: return_sequences=False (PyTorch modules return the whole "
                           f"sequence; set return_sequences=True in every layer)")
    if layer.return_state:
        raise _unsupported(f"{where}: return_state=True")
    if layer.stateful:
        raise _unsupported(f"{where}: stateful=True")
    if layer.go_backwards != backwards:
        raise _unsupported(f"{where}: go_backwards={layer.go_backwards}")
    if layer.truncate_gradient != -1 and not inference_only:
        raise _unsupported(f"{where}: truncate_gradient={layer.truncate_gradient} (pass "
                           f"inference_only=True to drop it)")


def _analyse(model: Any, inference_only: bool) -> _Plan:
    if not isinstance(model, Sequential):
        raise ValueError(f"to_torch expects an rnnlab Sequential model of recurrent layers, got "
                         f"{type(model).__name__}")
    layers = model.layers
    if not layers:
        raise ValueError("to_torch: the model has no layers")
    if not model.built:
        if getattr(model, "_input_shape", None) is None:
            raise ValueError("to_torch: the model is not built; build it first "
                             "(model.build((None, timesteps, features)) or call it on data)")
        model.build()
    recurrent: list[RNN | Bidirectional] = []
    gaps: list[list[Dropout]] = [[]]       # Dropout layers before, between and after
    for i, layer in enumerate(layers):
        if isinstance(layer, Dropout):
            gaps[-1].append(layer)
        elif isinstance(layer, (RNN, Bidirectional)):
            recurrent.append(layer)
            gaps.append([])
        else:
            raise _unsupported(f"layer {i} ({layer.name!r}) of type {type(layer).__name__} "
                               f"(only recurrent layers and Dropout between them)")
    if not recurrent:
        raise ValueError("to_torch: the model has no recurrent layer")

    slots: list[list[_Slot]] = []
    trainable: list[bool] = []
    bidir = [isinstance(layer, Bidirectional) for layer in recurrent]
    if any(bidir) and not all(bidir):
        raise _unsupported("a mix of Bidirectional and unidirectional layers")
    for layer in recurrent:
        where = f"layer {layer.name!r}"
        if isinstance(layer, Bidirectional):
            if layer.merge_mode != "concat":
                raise _unsupported(f"{where}: Bidirectional merge_mode={layer.merge_mode!r} "
                                   f"(only 'concat')")
            fwd, bwd = layer.forward_layer, layer.backward_layer
            _check_rnn(fwd, f"{where} (forward)", inference_only)
            _check_rnn(bwd, f"{where} (backward)", inference_only, backwards=True)
            if len(fwd.cells) != 1 or len(bwd.cells) != 1:
                raise _unsupported(f"{where}: Bidirectional around a stack of cells (each "
                                   f"direction would run the whole stack before merging)")
            pair = [_Slot(layer, _path_to(layer, c) or "", c)  # type: ignore[arg-type]
                    for c in (fwd.cells[0], bwd.cells[0])]
            slots.append(pair)
            trainable.append(layer.trainable and fwd.trainable and bwd.trainable)
        else:
            _check_rnn(layer, where, inference_only)
            for c in layer.cells:
                slots.append([_Slot(layer, _path_to(layer, c) or "", c)])  # type: ignore[arg-type]
                trainable.append(layer.trainable)

    modes, units, dtypes = set(), set(), set()
    for pair in slots:
        for d, slot in enumerate(pair):
            where = f"layer {slot.layer.name!r}" + (
                f" ({'backward' if d else 'forward'})" if len(pair) == 2 else "")
            modes.add(_cell_mode(slot.cell, where, inference_only))
            units.add(slot.cell.units)
            dtypes.add(slot.cell.dtype)
    if len(modes) != 1:
        raise _unsupported(f"a mix of recurrent kinds {sorted(modes)} (PyTorch modes; one module "
                           f"holds one kind)")
    if len(units) != 1:
        raise _unsupported(f"different units per layer {sorted(units)} (one hidden_size)")
    dtypes.update(d.dtype for g in gaps for d in g)  # a Dropout casts to its dtype
    if len(dtypes) != 1:
        raise _unsupported(f"a mix of dtypes {sorted(dtypes)} (every layer, Dropout included, "
                           f"must have the same dtype)")
    dirs = len(slots[0])
    hidden = units.pop()
    for pair in slots[1:]:
        for slot in pair:
            if slot.cell.input_dim != dirs * hidden:  # pragma: no cover - Sequential builds so
                raise _unsupported(f"layer {slot.layer.name!r}: input size "
                                   f"{slot.cell.input_dim} (expected {dirs * hidden})")

    dropout = _dropout_rate(gaps, inference_only, getattr(model, "torch_dropout", 0.0))
    return _Plan(mode=modes.pop(), input_size=slots[0][0].cell.input_dim, hidden_size=hidden,
                 bidirectional=dirs == 2, dtype=dtypes.pop(),
                 bias=any(s.cell.use_bias for pair in slots for s in pair),
                 dropout=dropout, slots=slots, trainable=trainable)


def _dropout_rate(gaps: list[list[Dropout]], inference_only: bool, recorded: float) -> float:
    """PyTorch's ``dropout`` from the Dropout layers around the recurrent ones.

    Representable: the same ``Dropout(rate)`` (no noise_shape) alone in every gap between two
    recurrent layers, and none before the first or after the last.
    """
    inner, outer = gaps[1:-1], gaps[0] + gaps[-1]
    problems = []
    if outer:
        problems.append(f"Dropout before the first or after the last recurrent layer "
                        f"({[d.name for d in outer]})")
    if any(len(g) > 1 for g in inner):
        problems.append("several Dropout layers between two recurrent layers")
    shaped = [d.name for g in inner for d in g if d.noise_shape is not None]
    if shaped:
        problems.append(f"Dropout with noise_shape ({shaped})")
    rates = {d.rate for g in inner for d in g}
    if len(rates) > 1 or (rates and not all(inner)):
        problems.append("Dropout between some recurrent layers only, or with different rates "
                        f"({sorted(rates)}); PyTorch applies one rate between every two layers")
    if problems:
        if not inference_only:
            raise _unsupported("; ".join(problems) + " (pass inference_only=True to drop it)")
        return 0.0
    if rates:
        return float(rates.pop())
    return float(recorded or 0.0)


# -- state dicts -----------------------------------------------------------------------------------
def _rnnlab_key(slot: _Slot, param: str) -> str:
    return f"{slot.layer.name}/{slot.path}.{param}"


def torch_state_dict_to_rnnlab(state_dict: Any, model: Sequential) -> dict[str, np.ndarray]:
    """PyTorch's ``state_dict`` (tensors or arrays) renamed for ``model.load_state_dict``.

    ``model`` must have the structure of the module (see ``to_torch``'s rules; training-only
    settings are ignored here). Keys missing from or unexpected in ``state_dict`` are a
    ValueError; a layer without a recurrent bias (or without biases) accepts only zero values
    for the biases it lacks. Arrays are cast to the model's dtype (copies).
    """
    plan = _analyse(model, inference_only=True)
    given = {str(k): v for k, v in dict(state_dict).items()}
    out: dict[str, np.ndarray] = {}
    expected: set[str] = set()
    for k, pair in enumerate(plan.slots):
        for d, slot in enumerate(pair):
            for param in _PARAMS:
                name = _torch_name(param, k, d)
                if param.startswith("bias") and name not in given and not slot.cell.use_bias:
                    continue
                expected.add(name)
                if name not in given:
                    continue
                value = _numpy(given[name])
                if param in slot.cell.params:
                    out[_rnnlab_key(slot, param)] = value.astype(slot.cell.dtype, copy=True)
                elif np.any(value != 0):
                    has = "no biases" if not slot.cell.use_bias else "no recurrent bias"
                    raise ValueError(
                        f"{name} is nonzero but layer {slot.layer.name!r} has {has} "
                        f"(Keras layout); rebuild it with use_bias=True, recurrent_bias=True")
    missing = sorted(n for n in expected if n not in given)
    unexpected = sorted(set(given) - expected)
    if missing or unexpected:
        raise ValueError(f"torch state dict does not fit the model: missing {missing}, "
                         f"unexpected {unexpected}")
    return out


def rnnlab_state_dict_to_torch(model: Sequential, *,
                               inference_only: bool = False) -> dict[str, np.ndarray]:
    """The arrays of ``to_torch(model).state_dict()`` by PyTorch name (copies).

    Biases a layer lacks (Keras's single bias, or ``use_bias=False`` in a module with biases) are
    zeros, which leaves the function unchanged.
    """
    return _export(_analyse(model, inference_only))


def _export(plan: _Plan) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for k, pair in enumerate(plan.slots):
        for d, slot in enumerate(pair):
            params = slot.cell.params
            gh = params["weight_ih"].shape[0]
            for param in _PARAMS[:4 if plan.bias else 2]:
                value = params.get(param)
                out[_torch_name(param, k, d)] = (
                    np.zeros(gh, dtype=plan.dtype) if value is None else value.copy())
    return out


# -- rnnlab -> torch -------------------------------------------------------------------------------
def to_torch(model: Sequential, *, batch_first: bool = True, inference_only: bool = False) -> Any:
    """A ``torch.nn.RNN``/``LSTM``/``GRU`` computing ``model`` (see the module docstring).

    The module has ``batch_first=True`` (unless asked otherwise), the model's dtype, one torch
    layer per recurrent layer (per cell of a stacked ``RNN``), ``bidirectional`` when the layers
    are ``Bidirectional``, ``dropout`` from the ``Dropout`` layers between recurrent layers (or
    ``model.torch_dropout`` from ``from_torch``), and the weights copied. It is in training mode
    like any new module (call ``.eval()`` when ``dropout > 0``). Creating it does not consume
    PyTorch's global random numbers. Unsupported models raise ValueError naming the problem.
    """
    torch = _import_torch()
    plan = _analyse(model, inference_only)
    state = _export(plan)
    cls = {"RNN_TANH": torch.nn.RNN, "RNN_RELU": torch.nn.RNN, "LSTM": torch.nn.LSTM,
           "GRU": torch.nn.GRU}[plan.mode]
    kwargs: dict[str, Any] = dict(
        input_size=plan.input_size, hidden_size=plan.hidden_size, num_layers=len(plan.slots),
        bias=plan.bias, batch_first=bool(batch_first), dropout=plan.dropout,
        bidirectional=plan.bidirectional,
        dtype=torch.float64 if plan.dtype == "float64" else torch.float32)
    if cls is torch.nn.RNN:
        kwargs["nonlinearity"] = "tanh" if plan.mode == "RNN_TANH" else "relu"
    with torch.random.fork_rng(devices=[]):
        module = cls(**kwargs)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    dirs = 2 if plan.bidirectional else 1
    for k, trainable in enumerate(plan.trainable):
        for d in range(dirs):
            for param in _PARAMS[:4 if plan.bias else 2]:
                getattr(module, _torch_name(param, k, d)).requires_grad_(bool(trainable))
    return module
