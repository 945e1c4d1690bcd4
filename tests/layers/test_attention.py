"""Attention (dot/concat, scale, causal, dropout, scores, masks) and AdditiveAttention:
gradients, equality with Keras 3 (outputs, scores and autograd gradients from copied weights),
masks in a functional model, configs, errors and dtypes."""

from __future__ import annotations

import json

import numpy as np
import pytest

import rnnlab
from rnnlab._registry import deserialize, serialize
from rnnlab.gradcheck import check_layer
from rnnlab.layers import AdditiveAttention, Attention, Dense, Embedding, Input

QM = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], dtype=bool)
VM = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 0]], dtype=bool)

VARIANTS = [
    ("Attention", dict(use_scale=False, score_mode="dot")),
    ("Attention", dict(use_scale=True, score_mode="dot")),
    ("Attention", dict(use_scale=False, score_mode="concat")),
    ("Attention", dict(use_scale=True, score_mode="concat")),
    ("AdditiveAttention", dict(use_scale=True)),
    ("AdditiveAttention", dict(use_scale=False)),
]
CLASSES = {"Attention": Attention, "AdditiveAttention": AdditiveAttention}


def _inputs(rng, with_key):
    q = rng.standard_normal((2, 4, 3))
    v = rng.standard_normal((2, 5, 3))
    return [q, v, rng.standard_normal((2, 5, 3))] if with_key else [q, v]


@pytest.mark.parametrize("name,kw", VARIANTS)
@pytest.mark.parametrize("with_key", [False, True])
@pytest.mark.parametrize("masked,causal", [(False, False), (True, False), (True, True)])
def test_attention_gradcheck(rng, name, kw, with_key, masked, causal):
    layer = CLASSES[name](dtype="float64", **kw)
    layer.build([(None, 4, 3), (None, 5, 3)])
    for p in layer.params.values():  # move the scalars off 1 so their gradients are generic
        p[...] = rng.uniform(0.5, 1.5, p.shape)
    inputs = _inputs(rng, with_key)
    mask = [QM, VM] if masked else None
    out, cache = layer.forward(inputs, mask=mask, use_causal_mask=causal,
                               return_attention_scores=True)
    report = check_layer(_Scored(layer, causal), inputs, mask=mask, seed=4)
    assert report.max_error < 1e-7, report


class _Scored:
    """The layer with call arguments fixed, for check_layer (both outputs are checked)."""

    def __init__(self, layer, causal, training=False):
        self.layer, self.causal = layer, causal

    def __getattr__(self, item):
        return getattr(self.layer, item)

    def __setattr__(self, key, value):
        if key in ("layer", "causal"):
            object.__setattr__(self, key, value)
        else:
            setattr(self.layer, key, value)

    def __call__(self, inputs, training=False, mask=None):
        return self.layer(inputs, training=training, mask=mask, use_causal_mask=self.causal,
                          return_attention_scores=True)

    def forward(self, inputs, training=False, mask=None):
        return self.layer.forward(inputs, training=training, mask=mask,
                                  use_causal_mask=self.causal, return_attention_scores=True)


def test_attention_dropout_gradcheck(rng):
    layer = Attention(use_scale=True, dropout=0.4, seed=2, dtype="float64")
    inputs = _inputs(rng, True)
    report = check_layer(_Scored(layer, False), inputs, training=True, seed=5)
    assert report.max_error < 1e-7, report
    out, scores = layer(inputs, training=True, return_attention_scores=True)
    assert np.any(scores == 0)  # dropout acted on the weights, which are returned after it
    plain = layer(inputs, return_attention_scores=True)[1]
    np.testing.assert_allclose(plain.sum(axis=-1), 1.0)


def _close32(ours, theirs):
    """Keras's attention computes in float32 even for a float64 layer (its torch backend's
    ``ops.matmul`` promotes float64 to float32, following JAX's default), so the comparison is
    at float32 precision; exactness in float64 is the gradient checks' job."""
    ours, theirs = np.asarray(ours), np.asarray(theirs, dtype=np.float64)
    scale = max(float(np.abs(theirs).max(initial=0.0)), 1.0)
    assert np.abs(ours - theirs).max(initial=0.0) <= 2e-6 * scale, (ours, theirs)


@pytest.mark.parametrize("name,kw", VARIANTS)
@pytest.mark.parametrize("with_key", [False, True])
@pytest.mark.parametrize("masked,causal", [(False, False), (True, False), (False, True),
                                           (True, True)])
def test_attention_matches_keras(rng, keras_oracle, name, kw, with_key, masked, causal):
    theirs = getattr(keras_oracle.keras.layers, name)(dtype="float64", **kw)
    ours = CLASSES[name](dtype="float64", **kw)
    inputs = _inputs(rng, with_key)
    shapes = [x.shape for x in inputs]
    theirs.build(shapes)
    ours.build(shapes)
    weights = [rng.uniform(0.5, 1.5, np.shape(w)) for w in theirs.get_weights()]
    assert [np.shape(w) for w in ours.get_weights()] == [np.shape(w) for w in weights]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    mask = [QM, VM] if masked else None
    (y, s), cache = ours.forward(inputs, mask=mask, use_causal_mask=causal,
                                 return_attention_scores=True)
    gy, gs = rng.standard_normal(y.shape), rng.standard_normal(s.shape)
    kw_call = dict(use_causal_mask=causal, return_attention_scores=True)
    if masked:
        kw_call["mask"] = [keras_oracle.torch.tensor(QM), keras_oracle.torch.tensor(VM)]
    (ky, ks), kdx, kdw = keras_oracle.run(theirs, inputs, [gy, gs], **kw_call)
    _close32(y, ky)
    _close32(s, ks)
    ours.zero_grad()
    dx = ours.backward([gy, gs], cache)
    for a, b in zip(dx, kdx, strict=True):
        _close32(a, b)
    for (_, g), kg in zip(ours.named_grads(), kdw, strict=True):
        _close32(g, kg)
    assert ours.compute_output_shape(shapes) == tuple(theirs.compute_output_shape(shapes))


def test_attention_output_only_and_query_mask(rng, keras_oracle):
    inputs = _inputs(rng, False)
    theirs = keras_oracle.keras.layers.Attention(dtype="float64")
    (ky,), _, _ = keras_oracle.run(theirs, inputs)
    ours = Attention(dtype="float64")
    _close32(ours(inputs), ky)
    y = ours(inputs, mask=[QM, None])
    assert np.all(y[~QM] == 0)
    assert ours.compute_mask(inputs, [QM, VM]) is not None
    np.testing.assert_array_equal(ours.compute_mask(inputs, [QM, VM]), QM)
    assert ours.compute_mask(inputs, None) is None


def test_attention_in_a_functional_model_with_masks(rng):
    tokens_q = Input((4,), dtype="int32")
    tokens_v = Input((5,), dtype="int32")
    emb = Embedding(10, 3, mask_zero=True)
    q, v = emb(tokens_q), emb(tokens_v)
    att, scores = Attention(use_scale=True)([q, v], use_causal_mask=True,
                                            return_attention_scores=True)
    assert att.shape == (None, 4, 3) and scores.shape == (None, 4, 5)
    assert att.has_mask and not scores.has_mask
    out = Dense(1)(att)
    model = rnnlab.Model([tokens_q, tokens_v], out)
    xq = np.array([[1, 2, 3, 0], [4, 5, 6, 7]])
    xv = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 6, 0]])
    model.compile("adam", "mse")
    hist = model.fit([xq, xv], np.zeros((2, 4, 1), "f4"), epochs=2, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
    assert model.predict([xq, xv], verbose=0).shape == (2, 4, 1)


@pytest.mark.parametrize("name,kw", VARIANTS)
def test_attention_config_roundtrip_and_keras_keys(keras_oracle, name, kw):
    layer = CLASSES[name](dropout=0.1, seed=3, **kw)
    cfg = layer.get_config()
    assert type(layer).from_config(json.loads(json.dumps(cfg))).get_config() == cfg
    assert deserialize(json.loads(json.dumps(serialize(layer)))).get_config() == cfg
    theirs = getattr(keras_oracle.keras.layers, name)(dropout=0.1, seed=3, **kw).get_config()
    for key in ("use_scale", "dropout", "seed", "score_mode"):
        assert (key in cfg) == (key in theirs)
        if key in cfg:
            assert cfg[key] == theirs[key]


def test_attention_dtypes_and_errors(rng):
    inputs = [x.astype("float32") for x in _inputs(rng, False)]
    layer = Attention(use_scale=True, score_mode="concat")
    (y, s), cache = layer.forward(inputs, return_attention_scores=True)
    assert y.dtype == s.dtype == np.float32
    dq, dv = layer.backward([np.ones_like(y), np.ones_like(s)], cache)
    assert dq.dtype == dv.dtype == np.float32
    assert layer.grads["scale"].dtype == np.float32
    with pytest.raises(ValueError, match="score_mode must be 'dot' or 'concat'"):
        Attention(score_mode="general")
    with pytest.raises(ValueError, match=r"must be called on a list \[query, value\]"):
        Attention()(inputs[0])
    with pytest.raises(ValueError, match="query and key must have the same feature size"):
        Attention()([rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5, 2))])
    with pytest.raises(ValueError, match="mask must be a list"):
        Attention()(inputs, mask=QM)
    with pytest.raises(ValueError, match=r"value mask must have shape \(batch, steps\)"):
        Attention()(inputs, mask=[QM, QM])
    with pytest.raises(TypeError, match="unexpected call argument"):
        Attention()(inputs, causal=True)
    with pytest.raises(ValueError, match="dropout must be a number in"):
        AdditiveAttention(dropout=2.0)


def test_attention_call_arguments_survive_model_config(rng):
    q_in, v_in = Input((4, 3)), Input((5, 3))
    out, scores = Attention(name="att")([q_in, v_in], use_causal_mask=True,
                                        return_attention_scores=True)
    model = rnnlab.Model([q_in, v_in], [out, scores])
    config = json.loads(json.dumps(model.get_config()))
    clone = rnnlab.Model.from_config(config)
    q, v = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5, 3))
    a, b = model.predict([q, v], verbose=0), clone.predict([q, v], verbose=0)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, atol=1e-6)
    assert np.all(np.triu(a[1][0], k=1) < 1e-6)  # causal: no weight on later steps
