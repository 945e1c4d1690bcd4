"""Keras-style custom cells written with rnnlab.ops, run by RNN with gradients from the tape."""

from __future__ import annotations

import numpy as np

from rnnlab import ops
from rnnlab.gradcheck import check_layer
from rnnlab.layers import LSTM, RNN, Bidirectional, Dense, Input, Layer, SimpleRNN
from rnnlab.models import Sequential
from rnnlab.optimizers import Adam
from rnnlab.saving import register_keras_serializable


class OpsLSTMCell(Layer):
    """An LSTM cell in Keras's layout and gate order (i, f, c, o), written with ops."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape):
        h = self.units
        self.kernel = self.add_weight(shape=(input_shape[-1], 4 * h), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(h, 4 * h), name="recurrent_kernel",
                                                initializer="orthogonal")
        self.bias = self.add_weight(shape=(4 * h,), name="bias", initializer="zeros")

    def call(self, inputs, states):
        h_prev, c_prev = states
        z = ops.matmul(inputs, self.kernel) + h_prev @ self.recurrent_kernel + self.bias
        i, f, g, o = ops.split(z, 4, axis=-1)
        c = ops.sigmoid(f) * c_prev + ops.sigmoid(i) * ops.tanh(g)
        h = ops.sigmoid(o) * ops.tanh(c)
        return h, [h, c]


@register_keras_serializable()
class MinimalRNNCell(Layer):
    """The Keras RNN guide's MinimalRNNCell with the imports changed."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                initializer="uniform", name="recurrent_kernel")
        self.built = True

    def call(self, inputs, states):
        prev_output = states[0]
        h = ops.matmul(inputs, self.kernel)
        output = h + ops.matmul(prev_output, self.recurrent_kernel)
        return output, [output]


class ShapedStateCell(Layer):
    """A state of shape (2, 3) updated with einsum('bij,ijkl->bkl'), as in the guide's nested
    cell, next to a flat state."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.state_size = [4, (2, 3)]
        self.output_size = 4

    def build(self, input_shape):
        d = input_shape[-1]
        self.kernel_1 = self.add_weight(shape=(d, 4), name="kernel_1")
        self.kernel_2_3 = self.add_weight(shape=(2, 3, 2, 3), name="kernel_2_3",
                                          initializer="random_normal")
        self.mix = self.add_weight(shape=(d, 6), name="mix")

    def call(self, inputs, states):
        s1, s23 = states
        drive = ops.reshape(ops.matmul(inputs, self.mix), (-1, 2, 3))
        s23_new = ops.tanh(ops.einsum("bij,ijkl->bkl", s23, self.kernel_2_3) + drive)
        out = ops.tanh(ops.matmul(inputs, self.kernel_1) + s1
                       + ops.sum(s23_new, axis=2)[:, :1])
        return out, (out, s23_new)


def _rng(seed):
    return np.random.default_rng(seed)


def test_ops_lstm_equals_builtin_lstm_in_outputs_and_all_gradients():
    x = _rng(0).standard_normal((3, 5, 4))
    mine = RNN(OpsLSTMCell(6), return_sequences=True, return_state=True, dtype="float64")
    ref = LSTM(6, return_sequences=True, return_state=True, dtype="float64")
    mine(x)
    ref(x)
    weights = [w + 0.1 * _rng(1).standard_normal(w.shape) for w in mine.get_weights()]
    mine.set_weights(weights)
    ref.set_weights(weights)
    out_m, cache_m = mine.forward(x)
    out_r, cache_r = ref.forward(x)
    for a, b in zip(out_m, out_r):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    seeds = [_rng(2 + k).standard_normal(np.shape(o)) for k, o in enumerate(out_m)]
    mine.zero_grad()
    ref.zero_grad()
    dx_m = mine.backward(seeds, cache_m)
    dx_r = ref.backward(seeds, cache_r)
    np.testing.assert_allclose(dx_m, dx_r, rtol=0, atol=1e-10)
    gm = dict(mine.named_grads())
    gr = dict(ref.named_grads())
    np.testing.assert_allclose(gm["cell.kernel"], gr["cell.weight_ih"].T, atol=1e-10)
    np.testing.assert_allclose(gm["cell.recurrent_kernel"], gr["cell.weight_hh"].T, atol=1e-10)
    np.testing.assert_allclose(gm["cell.bias"], gr["cell.bias_ih"], atol=1e-10)
    assert sorted(gr) == ["cell.bias_ih", "cell.weight_hh", "cell.weight_ih"]  # all compared


def test_custom_cells_pass_gradcheck_with_masks():
    x = _rng(3).standard_normal((2, 4, 3))
    mask = np.array([[True, True, False, True], [True, False, True, True]])
    for layer in (RNN(OpsLSTMCell(3), return_sequences=True, dtype="float64"),
                  RNN(ShapedStateCell(), return_state=True, dtype="float64"),
                  RNN(MinimalRNNCell(3), go_backwards=True, return_sequences=True,
                      dtype="float64")):
        report = check_layer(layer, x, mask=mask)
        assert report.max_error < 1e-7, report


def test_truncated_bptt_of_a_custom_cell_equals_the_builtin():
    """Truncation replays a step's tape several times; its gradients must still sum exactly."""
    x = _rng(6).standard_normal((2, 5, 3))
    kw = dict(return_sequences=True, go_backwards=True, truncate_gradient=2, dtype="float64")
    mine = RNN(MinimalRNNCell(3), **kw)
    ref = SimpleRNN(3, activation=None, use_bias=False, **kw)
    mine(x)
    ref(x)
    ref.set_weights(mine.get_weights())
    out_m, cache_m = mine.forward(x)
    out_r, cache_r = ref.forward(x)
    np.testing.assert_allclose(out_m, out_r, atol=1e-12)
    g = _rng(7).standard_normal(out_m.shape)
    mine.zero_grad()
    ref.zero_grad()
    np.testing.assert_allclose(mine.backward(g, cache_m), ref.backward(g, cache_r), atol=1e-10)
    gm, gr = dict(mine.named_grads()), dict(ref.named_grads())
    np.testing.assert_allclose(gm["cell.kernel"], gr["cell.weight_ih"].T, atol=1e-10)
    np.testing.assert_allclose(gm["cell.recurrent_kernel"], gr["cell.weight_hh"].T, atol=1e-10)


def test_bidirectional_and_stacked_custom_cells_gradcheck():
    x = _rng(4).standard_normal((2, 3, 3))
    bi = Bidirectional(RNN(MinimalRNNCell(2), return_sequences=True, dtype="float64"))
    report = check_layer(bi, x)
    assert report.max_error < 1e-7, report
    stack = RNN([OpsLSTMCell(3), MinimalRNNCell(2)], dtype="float64")
    report = check_layer(stack, x)
    assert report.max_error < 1e-7, report


def test_minimal_rnn_cell_and_shaped_state_cell_train():
    rng = _rng(5)
    x = rng.standard_normal((64, 6, 3))
    y = x.sum(axis=(1, 2))[:, None] * 0.3
    for cell in (MinimalRNNCell(8), ShapedStateCell()):
        model = Sequential([Input((6, 3)), RNN(cell), Dense(1)])
        model.compile(optimizer=Adam(learning_rate=0.02), loss="mse")
        hist = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
        assert hist.history["loss"][-1] < 0.7 * hist.history["loss"][0], hist.history["loss"]


def test_check_cell_accepts_keras_style_cells():
    from rnnlab.gradcheck import check_cell
    report = check_cell(OpsLSTMCell(3))
    assert report.max_error < 1e-7, report
