"""Keras-style cells with nested inputs, several outputs and shaped states (the Keras RNN
guide's ``NestedCell``; the guide itself runs in tests/test_examples.py).

Keras 3 cannot run the guide's example: its ``RNN`` takes one input sequence and integer
``state_size``/``output_size`` only (Keras 3.15.1 on the guide's cell with ``keras.ops``: the
cell is built from the tuple's shapes and ``add_weight`` fails, "Shapes used to initialize
variables must be fully-defined ... shape=(None, 3)").
So the Keras oracle here is the same computation written as a flat Keras cell (inputs
concatenated, states and outputs flattened, reshaped inside ``call``), compared in outputs,
input gradients and weight gradients through the torch backend's autograd; the rest is
checked against central differences (float64).
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab import Input, Model, ops
from rnnlab.gradcheck import check_layer
from rnnlab.layers import RNN, Bidirectional, Dense, Layer
from rnnlab.optimizers import Adam
from rnnlab.saving import register_keras_serializable

U1, U2, U3 = 3, 2, 4
I1, I2, I3 = 5, 3, 2


@register_keras_serializable()
class RecurrentNestedCell(Layer):
    """The guide's NestedCell with recurrent kernels and tanh: states ``(N, u1)`` and
    ``(N, u2, u3)``, ``s1' = tanh(x1 K1 + s1 R1)``,
    ``s23' = tanh(einsum(x2, K23) + einsum(s23, R23))``; outputs ``(s1', s23')``."""

    def __init__(self, unit_1, unit_2, unit_3, **kwargs):
        super().__init__(**kwargs)
        self.unit_1, self.unit_2, self.unit_3 = unit_1, unit_2, unit_3
        self.state_size = [[unit_1], [unit_2, unit_3]]
        self.output_size = [[unit_1], [unit_2, unit_3]]

    def build(self, input_shapes):
        (_, i1), (_, i2, i3) = input_shapes
        u1, u2, u3 = self.unit_1, self.unit_2, self.unit_3
        self.kernel_1 = self.add_weight(shape=(i1, u1), name="kernel_1")
        self.recurrent_kernel_1 = self.add_weight(shape=(u1, u1), name="recurrent_kernel_1",
                                                  initializer="orthogonal")
        self.kernel_2_3 = self.add_weight(shape=(i2, i3, u2, u3), name="kernel_2_3",
                                          initializer="random_normal")
        self.recurrent_kernel_2_3 = self.add_weight(shape=(u2, u3, u2, u3),
                                                    name="recurrent_kernel_2_3",
                                                    initializer="random_normal")

    def call(self, inputs, states):
        x1, x2 = inputs
        s1, s23 = states
        a = ops.tanh(ops.matmul(x1, self.kernel_1) + ops.matmul(s1, self.recurrent_kernel_1))
        b = ops.tanh(ops.einsum("bij,ijkl->bkl", x2, self.kernel_2_3)
                     + ops.einsum("bkl,klmn->bmn", s23, self.recurrent_kernel_2_3))
        return (a, b), (a, b)


@register_keras_serializable()
class NestedInFlatOut(RecurrentNestedCell):
    """Nested inputs, one flat output (``s1'``): what Bidirectional can merge."""

    def __init__(self, **kwargs):
        super().__init__(U1, U2, U3, **kwargs)
        self.output_size = U1

    def call(self, inputs, states):
        (a, b), new = super().call(inputs, states)
        return a, new


def _data(rng, n=2, t=4):
    return [rng.standard_normal((n, t, I1)), rng.standard_normal((n, t, I2, I3))]


def test_shapes_of_outputs_and_states_in_every_mode(rng):
    xs = _data(rng)
    for seq in (False, True):
        layer = RNN(RecurrentNestedCell(U1, U2, U3), return_sequences=seq, return_state=True)
        out = layer(xs)
        lead = (2, 4) if seq else (2,)
        assert [o.shape for o in out] == [(*lead, U1), (*lead, U2, U3), (2, U1), (2, U2, U3)]
        assert layer.compute_output_shape([(None, 4, I1), (None, 4, I2, I3)]) == [
            (None, *lead[1:], U1), (None, *lead[1:], U2, U3), (None, U1), (None, U2, U3)]
        np.testing.assert_array_equal(out[1][:, -1] if seq else out[1], out[3])
    # shaped initial states, given shaped or flat, give the same numbers
    layer = RNN(RecurrentNestedCell(U1, U2, U3))
    s = [rng.standard_normal((2, U1)), rng.standard_normal((2, U2, U3))]
    a = layer(xs, initial_state=s)
    b = layer(xs, initial_state=[s[0], s[1].reshape(2, -1)])
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    with pytest.raises(ValueError, match=r"expected shape \(2, 2, 4\)"):
        layer(xs, initial_state=[s[0], s[1][:, :1]])


def test_gradients_match_central_differences_with_masks_and_states(rng):
    xs = _data(rng)
    states = [rng.standard_normal((2, U1)), rng.standard_normal((2, U2, U3))]
    mask = np.array([[True, True, False, True], [True, False, True, True]])
    for kw in ({"return_sequences": True, "return_state": True},
               {"go_backwards": True, "return_state": True}):
        layer = RNN(RecurrentNestedCell(U1, U2, U3), dtype="float64", **kw)
        report = check_layer(layer, xs, initial_state=states, mask=mask)
        assert report.max_error < 1e-7, report
        assert {"input0", "input1", "initial_state0", "initial_state1",
                "cell.kernel_2_3", "cell.recurrent_kernel_2_3"} <= set(report.errors)


def test_bidirectional_with_nested_inputs_and_shaped_states(rng):
    xs = _data(rng)
    bi = Bidirectional(RNN(NestedInFlatOut(), return_sequences=True, return_state=True,
                           dtype="float64"))
    out = bi(xs)
    assert [o.shape for o in out] == [(2, 4, 2 * U1), (2, U1), (2, U2, U3), (2, U1),
                                      (2, U2, U3)]
    report = check_layer(bi, xs)
    assert report.max_error < 1e-7, report
    with pytest.raises(ValueError, match="merges one output per direction"):
        Bidirectional(RNN(RecurrentNestedCell(U1, U2, U3)))(xs)


def test_functional_model_with_two_inputs_trains_and_saves(rng, tmp_path):
    from rnnlab.models import load_model

    in_1, in_2 = Input((None, I1)), Input((None, I2, I3))
    o1, o2 = RNN(RecurrentNestedCell(U1, U2, U3))((in_1, in_2))
    model = Model([in_1, in_2], [Dense(1)(o1), o2])
    xs = _data(rng, n=32, t=5)
    ys = [xs[0].sum(axis=(1, 2))[:, None] * 0.1,
          np.tanh(xs[1][:, -1, :U2, :1] + 0.5) * np.ones((1, 1, U3))]
    model.compile(optimizer=Adam(learning_rate=0.02), loss="mse")
    hist = model.fit(xs, ys, epochs=8, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < 0.8 * hist.history["loss"][0], hist.history["loss"]
    path = tmp_path / "nested.rnnlab"
    model.save(path)
    loaded = load_model(path)
    for a, b in zip(loaded.predict(xs, verbose=0), model.predict(xs, verbose=0)):
        np.testing.assert_array_equal(a, b)


def test_a_list_for_a_keras_style_cell_is_nested_sequences(rng):
    layer = RNN(RecurrentNestedCell(U1, U2, U3))
    with pytest.raises(ValueError, match="initial states go in initial_state="):
        layer([rng.standard_normal((2, 4, I1)), rng.standard_normal((2, U1))])


def _keras_flat_cell(keras):
    """The same computation as RecurrentNestedCell for Keras 3: one flat input
    ``[x1, x2.flatten]``, states ``[u1, u2·u3]``, output ``[s1', s23'.flatten]``."""
    kops = keras.ops

    class FlatNestedCell(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.state_size = [U1, U2 * U3]
            self.output_size = U1 + U2 * U3

        def build(self, input_shape):
            self.kernel_1 = self.add_weight(shape=(I1, U1), name="kernel_1")
            self.recurrent_kernel_1 = self.add_weight(shape=(U1, U1), name="recurrent_kernel_1")
            self.kernel_2_3 = self.add_weight(shape=(I2, I3, U2, U3), name="kernel_2_3")
            self.recurrent_kernel_2_3 = self.add_weight(shape=(U2, U3, U2, U3),
                                                        name="recurrent_kernel_2_3")

        def call(self, inputs, states):
            x1 = inputs[:, :I1]
            x2 = kops.reshape(inputs[:, I1:], (-1, I2, I3))
            s1, s23 = states[0], kops.reshape(states[1], (-1, U2, U3))
            # einsum, not matmul: Keras's torch-backend matmul returns float32 for float64
            a = kops.tanh(kops.einsum("bi,ij->bj", x1, self.kernel_1)
                          + kops.einsum("bi,ij->bj", s1, self.recurrent_kernel_1))
            b = kops.tanh(kops.einsum("bij,ijkl->bkl", x2, self.kernel_2_3)
                          + kops.einsum("bkl,klmn->bmn", s23, self.recurrent_kernel_2_3))
            b = kops.reshape(b, (-1, U2 * U3))
            return kops.concatenate([a, b], axis=-1), [a, b]

    return FlatNestedCell


def test_outputs_and_gradients_equal_keras_on_the_flattened_cell(rng, keras_oracle):
    keras = keras_oracle.keras
    floatx = keras.config.floatx()
    keras.config.set_floatx("float64")
    try:
        klayer = keras.layers.RNN(_keras_flat_cell(keras)(dtype="float64"),
                                  return_sequences=True, return_state=True, dtype="float64")
        xs = _data(rng)
        n, t = 2, 4
        flat_x = np.concatenate([xs[0], xs[1].reshape(n, t, -1)], axis=-1)
        mine = RNN(RecurrentNestedCell(U1, U2, U3), return_sequences=True, return_state=True,
                   dtype="float64")
        mine(xs)
        klayer(flat_x)
        klayer.set_weights(mine.get_weights())
        g = [rng.standard_normal((n, t, U1)), rng.standard_normal((n, t, U2, U3)),
             rng.standard_normal((n, U1)), rng.standard_normal((n, U2, U3))]
        kg = [np.concatenate([g[0], g[1].reshape(n, t, -1)], axis=-1), g[2],
              g[3].reshape(n, -1)]
        k_out, k_dx, k_dw = keras_oracle.run(klayer, flat_x, kg)
    finally:
        keras.config.set_floatx(floatx)
    out, cache = mine.forward(xs)
    mine.zero_grad()
    dx = mine.backward(g, cache)
    ours = [np.concatenate([out[0], out[1].reshape(n, t, -1)], axis=-1), out[2],
            out[3].reshape(n, -1)]
    for a, b in zip(ours, k_out):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.concatenate([dx[0], dx[1].reshape(n, t, -1)], axis=-1),
                               k_dx[0], rtol=0, atol=1e-12)
    grads = dict(mine.named_grads())
    names = ["kernel_1", "recurrent_kernel_1", "kernel_2_3", "recurrent_kernel_2_3"]
    for name, kw in zip(names, k_dw, strict=True):
        np.testing.assert_allclose(grads[f"cell.{name}"], kw, rtol=0, atol=1e-12, err_msg=name)
