"""``rnnlab.cells.arguments``: the gated cells' constructors are made from the arguments their
classes declare (shared ones on ``GatedCell``, a cell's own on its class), keyword-only after
``units`` and ``activation`` (Keras's first two), all of them recorded in the config, and
checked."""

from __future__ import annotations

import inspect

import pytest

from rnnlab.cells import GRUCell, LSTMCell, SimpleRNNCell
from rnnlab.cells.base import GatedCell

SHARED = ["units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
          "bias_initializer", "recurrent_bias", "dropout", "recurrent_dropout"]


@pytest.mark.parametrize("cls,own", [
    (SimpleRNNCell, []),
    (LSTMCell, ["recurrent_activation", "unit_forget_bias"]),
    (GRUCell, ["recurrent_activation", "reset_after"]),
])
def test_signatures_and_configs(cls: type, own: list[str]) -> None:
    params = inspect.signature(cls).parameters
    assert list(params) == SHARED + own
    assert params["units"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert params["activation"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert all(params[k].kind is inspect.Parameter.KEYWORD_ONLY for k in SHARED[2:] + own)
    cell = cls(3, dropout=0.25)
    cfg = cell.get_config()
    assert list(cfg) == SHARED + own and cfg["dropout"] == 0.25
    assert cls.from_config(cfg).get_config() == cfg
    assert cell.units == 3 and cell.dropout == 0.25 and cell.state_size[0] == 3


def test_arguments_are_checked() -> None:
    assert LSTMCell(3, "relu").activation == "relu"  # Keras: LSTMCell(units, activation, ...)
    with pytest.raises(TypeError, match="positional"):
        LSTMCell(3, "relu", "sigmoid")  # type: ignore[misc]
    with pytest.raises(TypeError, match="unexpected keyword"):
        SimpleRNNCell(3, recurrent_activation="sigmoid")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="units must be a positive integer"):
        GRUCell(0)
    with pytest.raises(ValueError, match="recurrent_dropout must be in"):
        GRUCell(2, recurrent_dropout=1.0)
    with pytest.raises(ValueError, match="has no recurrent bias"):
        GRUCell(2, reset_after=False, recurrent_bias=True)
    assert LSTMCell(2, unit_forget_bias=False).unit_forget_bias is False
    assert LSTMCell(2).state_size == (2, 2)


def test_a_subclass_declares_more_and_an_own_init_is_kept() -> None:
    class Scaled(GatedCell):
        scale: float = 0.5

    cell = Scaled(4, use_bias=False, scale=2.0)
    assert cell.scale == 2.0 and cell.use_bias is False
    assert list(cell.get_config()) == SHARED + ["scale"]

    class Explicit(GatedCell):
        def __init__(self, units: int, width: int = 1) -> None:
            super().__init__(units)
            self.width = width

    assert Explicit(3, width=2).width == 2
    assert Explicit(3).get_config() == {"units": 3, "width": 1}
