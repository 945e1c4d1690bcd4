"""PyTorch as the oracle for masks and ``go_backwards`` (float64, 1e-12).

Masks: right-padded batches with ragged lengths, fed to PyTorch as packed sequences
(``pack_padded_sequence``): rnnlab's outputs at the valid steps and its final states equal
PyTorch's. ``go_backwards``: the layer's outputs equal PyTorch's on the time-flipped input.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rnnlab.interop import from_torch

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.oracle

N, T, D, H = 4, 6, 3, 5
LENGTHS = [6, 4, 1, 3]  # ragged; PyTorch packs them in any order (enforce_sorted=False)
KINDS = {"rnn": lambda: torch.nn.RNN(D, H, batch_first=True),
         "lstm": lambda: torch.nn.LSTM(D, H, batch_first=True),
         "gru": lambda: torch.nn.GRU(D, H, batch_first=True)}


def module_and_layer(kind: str, **options: Any) -> tuple[Any, Any]:
    """A float64 PyTorch module and the rnnlab layer with its weights and ``options``."""
    torch.manual_seed(3)
    module = KINDS[kind]().double().eval()
    source: Any = from_torch(module).layers[0]
    config = {**source.get_config(), **options}
    layer: Any = type(source).from_config(config)
    layer(np.zeros((1, T, D)))
    layer.set_weights(source.get_weights())
    return module, layer


def data() -> np.ndarray:
    return np.random.default_rng(5).standard_normal((N, T, D))


@pytest.mark.parametrize("kind", list(KINDS))
def test_ragged_masks_equal_packed_sequences(kind: str) -> None:
    module, layer = module_and_layer(kind, return_sequences=True, return_state=True)
    x = data()
    mask = np.arange(T)[None, :] < np.array(LENGTHS)[:, None]
    x_padded = np.where(mask[..., None], x, 0.0)
    out, *states = layer(x_padded, mask=mask)
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        torch.tensor(x_padded), torch.tensor(LENGTHS), batch_first=True, enforce_sorted=False)
    with torch.no_grad():
        t_out, t_state = module(packed)
    t_out, t_len = torch.nn.utils.rnn.pad_packed_sequence(t_out, batch_first=True,
                                                          total_length=T)
    assert t_len.tolist() == LENGTHS
    t_out = t_out.numpy()
    np.testing.assert_allclose(np.where(mask[..., None], out, 0.0), t_out, rtol=1e-12,
                               atol=1e-12)
    t_states = [s[0].numpy() for s in (t_state if isinstance(t_state, tuple) else (t_state,))]
    assert len(states) == len(t_states)
    for mine, theirs in zip(states, t_states):  # h (and c): the state after each row's last step
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)
    # and padding changes nothing: the masked steps are skipped, not fed zeros
    again, *_ = layer(np.where(mask[..., None], x, 7.0), mask=mask)
    np.testing.assert_array_equal(np.where(mask[..., None], again, 0.0),
                                  np.where(mask[..., None], out, 0.0))


@pytest.mark.parametrize("kind", list(KINDS))
def test_go_backwards_equals_the_flipped_input(kind: str) -> None:
    module, layer = module_and_layer(kind, return_sequences=True, return_state=True,
                                     go_backwards=True)
    x = data()
    out, *states = layer(x)
    with torch.no_grad():
        t_out, t_state = module(torch.tensor(x[:, ::-1].copy()))
    np.testing.assert_allclose(out, t_out.numpy(), rtol=1e-12, atol=1e-12)
    t_states = [s[0].numpy() for s in (t_state if isinstance(t_state, tuple) else (t_state,))]
    for mine, theirs in zip(states, t_states, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)
    forwards, *_ = module_and_layer(kind, return_sequences=True, return_state=True)[1](x)
    assert not np.allclose(out, forwards)  # the option does change the result
