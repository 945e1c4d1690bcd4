"""The Keras 3 oracle of the layer tests: real Keras on its torch backend, gradients by autograd.

Keras is part of the dev extra, so a missing Keras fails these tests rather than skipping them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest


@dataclass
class KerasOracle:
    keras: Any
    torch: Any

    def run(self, layer: Any, inputs: Any, grads: Any = None, **call_kwargs: Any
            ) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
        """Call the Keras ``layer`` on ``inputs`` (an array or a list), then backpropagate
        ``Σ grads_k ⊙ outputs_k``. Returns (outputs, input gradients, gradients of
        ``layer.trainable_weights``), all as NumPy arrays (None-free: no grads -> empty lists)."""
        torch = self.torch
        many = isinstance(inputs, (list, tuple))
        xs = [torch.tensor(np.asarray(x), requires_grad=np.asarray(x).dtype.kind == "f")
              for x in (inputs if many else [inputs])]
        out = layer(xs if many else xs[0], **call_kwargs)
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        values = [o.detach().cpu().numpy() for o in outs]
        if grads is None:
            return values, [], []
        glist = grads if isinstance(grads, (list, tuple)) else [grads]
        loss = sum((o * torch.tensor(g)).sum() for o, g in zip(outs, glist))
        loss.backward()
        d_in = [x.grad.numpy() if x.grad is not None else np.zeros(x.shape) for x in xs]
        d_w = []
        for w in layer.trainable_weights:
            g = w.value.grad
            d_w.append(np.zeros(tuple(w.shape)) if g is None else g.detach().cpu().numpy())
        return values, d_in, d_w


@pytest.fixture(scope="session")
def keras_oracle() -> KerasOracle:
    os.environ["KERAS_BACKEND"] = "torch"  # before the first import of keras
    import keras
    import torch

    assert keras.backend.backend() == "torch", (
        f"keras was imported with the {keras.backend.backend()!r} backend; the oracle needs "
        f"KERAS_BACKEND=torch set before keras is first imported")
    return KerasOracle(keras, torch)
