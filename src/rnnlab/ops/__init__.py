"""``rnnlab.ops``: NumPy-like operations with Keras's names, differentiated automatically.

Outside a trace they take and return NumPy arrays. Given a ``Tensor`` (as inside a traced
``Layer.call`` or a custom cell's ``call``), they record the computation on a tape, and
``Tape.backward`` gives exact gradients by reverse-mode automatic differentiation over whole
arrays. See ``rnnlab.ops.tensor`` for the tape and ``rnnlab.ops.functions`` for the operations.
"""

from .functions import (
    abs,
    absolute,
    add,
    cast,
    clip,
    concatenate,
    convert_to_numpy,
    convert_to_tensor,
    divide,
    dot,
    einsum,
    exp,
    expand_dims,
    getitem,
    log,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    multiply,
    negative,
    one_hot,
    ones,
    ones_like,
    power,
    relu,
    reshape,
    shape,
    sigmoid,
    softmax,
    split,
    sqrt,
    square,
    squeeze,
    stack,
    stop_gradient,
    subtract,
    sum,
    take,
    tanh,
    transpose,
    true_divide,
    where,
    zeros,
    zeros_like,
)
from .tensor import GradMap, Tape, Tensor, grad, unbroadcast

__all__ = [
    "GradMap", "Tape", "Tensor", "abs", "absolute", "add", "cast", "clip", "concatenate",
    "convert_to_numpy", "convert_to_tensor", "divide", "dot", "einsum", "exp", "expand_dims",
    "getitem", "grad", "log", "matmul", "max", "maximum", "mean", "min", "minimum", "multiply",
    "negative", "one_hot", "ones", "ones_like", "power", "relu", "reshape", "shape", "sigmoid",
    "softmax", "split", "sqrt", "square", "squeeze", "stack", "stop_gradient", "subtract", "sum",
    "take", "tanh", "transpose", "true_divide", "unbroadcast", "where", "zeros", "zeros_like",
]
