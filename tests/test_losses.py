"""Losses: values and gradients against torch.nn.functional (float64), finite differences,
extreme inputs, Keras reference values, masking semantics, errors, dtypes, config and lookup."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnlab import losses
from rnnlab._registry import deserialize, serialize
from rnnlab.gradcheck import numerical_gradient
from rnnlab.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)

EPS = 1e-7
SHAPES = [(5, 4), (3, 4, 5)]  # (N, C) and (N, T, C)


def _data(shape, kind, from_logits, rng):
    """(y_true, y_pred) for a loss kind, probabilities kept away from the clip boundaries."""
    z = rng.normal(size=shape) * 2.0
    if kind in ("mse", "mae"):
        return rng.normal(size=shape), z
    if kind == "bce":
        t = (rng.random(shape) > 0.5).astype(float)
        return t, z if from_logits else 0.05 + 0.9 * rng.random(shape)
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    e = np.exp(z)
    p = e / e.sum(-1, keepdims=True)
    pred = z if from_logits else p * 1.3  # unnormalised probabilities: Keras divides by the sum
    if kind == "sparse":
        return labels, pred
    return np.eye(shape[-1])[labels], pred


def _make(kind, from_logits):
    return {
        "mse": lambda: MeanSquaredError(),
        "mae": lambda: MeanAbsoluteError(),
        "bce": lambda: BinaryCrossentropy(from_logits=from_logits),
        "cce": lambda: CategoricalCrossentropy(from_logits=from_logits),
        "sparse": lambda: SparseCategoricalCrossentropy(from_logits=from_logits),
    }[kind]()


def _torch_values(torch, kind, from_logits, yt, yp):
    """Per-position Keras losses written with torch.nn.functional."""
    F = torch.nn.functional
    if kind == "mse":
        return F.mse_loss(yp, yt, reduction="none").mean(-1)
    if kind == "mae":
        return F.l1_loss(yp, yt, reduction="none").mean(-1)
    if kind == "bce":
        if from_logits:
            return F.binary_cross_entropy_with_logits(yp, yt, reduction="none").mean(-1)
        return F.binary_cross_entropy(torch.clamp(yp, EPS, 1 - EPS), yt, reduction="none").mean(-1)
    if from_logits:
        logp = F.log_softmax(yp, dim=-1)
    else:
        logp = torch.log(torch.clamp(yp / yp.sum(-1, keepdim=True), EPS, 1 - EPS))
    if kind == "cce":
        return -(yt * logp).sum(-1)
    c = yp.shape[-1]
    return F.nll_loss(logp.reshape(-1, c), yt.reshape(-1), reduction="none").reshape(yp.shape[:-1])


def _torch_reference(kind, from_logits, yt, yp, sample_weight=None, mask=None):
    """Keras 'sum_over_batch_size': sum(v * w) / count, or over unmasked positions only."""
    torch = pytest.importorskip("torch")
    tp = torch.tensor(yp, requires_grad=True)
    tt = torch.tensor(yt) if kind == "sparse" else torch.tensor(yt, dtype=torch.float64)
    v = _torch_values(torch, kind, from_logits, tt, tp)
    w = torch.ones_like(v)
    if sample_weight is not None:
        sw = torch.tensor(np.asarray(sample_weight, dtype=float))
        w = w * sw.reshape(sw.shape + (1,) * (v.dim() - sw.dim()))
    if mask is not None:
        m = torch.tensor(np.asarray(mask, dtype=float))
        loss = (v * w * m).sum() / m.sum()
    else:
        loss = (v * w).sum() / v.numel()
    loss.backward()
    return loss.item(), tp.grad.numpy()


KINDS = [
    ("mse", False),
    ("mae", False),
    ("bce", True),
    ("bce", False),
    ("cce", True),
    ("cce", False),
    ("sparse", True),
    ("sparse", False),
]


@pytest.mark.oracle
@pytest.mark.parametrize("kind, from_logits", KINDS)
@pytest.mark.parametrize("shape", SHAPES, ids=["2d", "3d"])
@pytest.mark.parametrize("weighting", ["none", "sample_weight", "mask", "both"])
def test_matches_torch(kind, from_logits, shape, weighting, rng):
    yt, yp = _data(shape, kind, from_logits, rng)
    sw = rng.random(shape[0]) + 0.5 if weighting in ("sample_weight", "both") else None
    mask = None
    if weighting in ("mask", "both"):
        mask = rng.random(shape[:-1]) > 0.4
        mask.flat[0] = True
    loss = _make(kind, from_logits)
    value, grad = loss.value_and_grad(yt, yp, sample_weight=sw, mask=mask)
    ref_value, ref_grad = _torch_reference(kind, from_logits, yt, yp, sw, mask)
    assert value == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-10, atol=1e-15)
    assert loss(yt, yp, sample_weight=sw, mask=mask) == value


@pytest.mark.oracle
def test_categorical_label_smoothing_matches_torch_cross_entropy(rng):
    torch = pytest.importorskip("torch")
    z = rng.normal(size=(6, 5))
    labels = rng.integers(0, 5, size=6)
    value, grad = CategoricalCrossentropy(from_logits=True, label_smoothing=0.2).value_and_grad(
        np.eye(5)[labels], z
    )
    tz = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(tz, torch.tensor(labels), label_smoothing=0.2)
    ref.backward()
    assert value == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(grad, tz.grad.numpy(), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("kind, from_logits", KINDS)
@pytest.mark.parametrize("shape", SHAPES, ids=["2d", "3d"])
def test_finite_difference_gradient(kind, from_logits, shape, rng):
    yt, yp = _data(shape, kind, from_logits, rng)
    if kind == "mae":  # keep |y_pred - y_true| away from the kink
        yp = yt + np.sign(rng.normal(size=shape)) * (0.1 + rng.random(shape))
    sw = rng.random(shape[0]) + 0.5
    mask = rng.random(shape[:-1]) > 0.3
    mask.flat[0] = True
    loss = _make(kind, from_logits)
    _, grad = loss.value_and_grad(yt, yp, sample_weight=sw, mask=mask)
    x = yp.copy()
    num = numerical_gradient(lambda: float(loss(yt, x, sample_weight=sw, mask=mask)), x)
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------------------------
# Keras reference values and semantics
# ---------------------------------------------------------------------------------------------
def test_keras_docstring_values():
    np.testing.assert_allclose(
        losses.categorical_crossentropy([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]),
        [0.0513, 2.303],
        atol=1e-3,
    )
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]),
        [0.0513, 2.303],
        atol=1e-3,
    )
    np.testing.assert_allclose(
        losses.binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]),
        [0.916, 0.714],
        atol=1e-3,
    )
    # keras.losses.MeanSquaredError docs: 0.5 for these, 0.25 with sample_weight=[0.7, 0.3]
    yt, yp = [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]]
    assert MeanSquaredError()(yt, yp) == pytest.approx(0.5)
    assert MeanSquaredError()(yt, yp, sample_weight=[0.7, 0.3]) == pytest.approx(0.25)
    assert MeanAbsoluteError()(yt, yp) == pytest.approx(0.5)


def test_sample_weight_keeps_the_divisor_mask_does_not():
    yt = np.zeros((2, 3, 1))
    yp = np.array([[[1.0], [2.0], [3.0]], [[4.0], [5.0], [6.0]]])
    values = (yp**2)[..., 0]
    # sample_weight: sum(v * w) / count (Keras sum_over_batch_size)
    sw = np.array([1.0, 0.0])
    assert MeanSquaredError()(yt, yp, sample_weight=sw) == pytest.approx(values[0].sum() / 6)
    # mask: mean over unmasked positions only
    mask = np.array([[1, 1, 0], [1, 0, 0]], dtype=bool)
    assert MeanSquaredError()(yt, yp, mask=mask) == pytest.approx((1 + 4 + 16) / 3)
    # both: weighted sum over unmasked positions / number of unmasked positions
    assert MeanSquaredError()(yt, yp, sample_weight=[2.0, 1.0], mask=mask) == pytest.approx(
        (2 * (1 + 4) + 16) / 3
    )
    # nothing valid: 0 and a zero gradient (divide_no_nan)
    v, g = MeanSquaredError().value_and_grad(yt, yp, mask=np.zeros((2, 3)))
    assert v == 0 and not g.any()


def test_label_alignment():
    # (N,) labels for (N, 1) outputs and (N, T) for (N, T, 1)
    v1 = BinaryCrossentropy()(np.array([1.0, 0.0]), np.array([[0.8], [0.3]]))
    v2 = BinaryCrossentropy()(np.array([[1.0], [0.0]]), np.array([[0.8], [0.3]]))
    assert v1 == v2
    yp = np.random.default_rng(0).random((2, 3, 1))
    v, g = MeanSquaredError().value_and_grad(np.ones((2, 3)), yp, mask=np.ones((2, 3)))
    assert g.shape == yp.shape
    # 1-D predictions: one value per sample
    v, g = MeanSquaredError().value_and_grad([1.0, 2.0], np.array([0.0, 0.0]))
    assert v == pytest.approx(2.5) and g.shape == (2,)
    np.testing.assert_allclose(g, [-1.0, -2.0])
    # sparse labels with a trailing 1
    p = np.array([[0.2, 0.8], [0.6, 0.4]])
    assert SparseCategoricalCrossentropy()([[1], [0]], p) == SparseCategoricalCrossentropy()(
        [1, 0], p
    )


def test_reductions_and_ignore_class():
    yt, yp = np.zeros((2, 2)), np.array([[1.0, 1.0], [2.0, 2.0]])
    assert MeanSquaredError(reduction="sum")(yt, yp) == pytest.approx(5.0)
    np.testing.assert_allclose(MeanSquaredError(reduction="none")(yt, yp), [1.0, 4.0])
    assert MeanSquaredError(reduction="mean_with_sample_weight")(
        yt, yp, sample_weight=[1.0, 3.0]
    ) == pytest.approx((1 + 12) / 4)
    with pytest.raises(ValueError, match="scalar"):
        MeanSquaredError(reduction="none").value_and_grad(yt, yp)
    with pytest.raises(ValueError, match="reduction"):
        MeanSquaredError(reduction="avg")
    z = np.random.default_rng(0).normal(size=(2, 3, 4))
    labels = np.array([[1, -1, 2], [-1, 0, 3]])
    loss = SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    keep = labels != -1
    ref = SparseCategoricalCrossentropy(from_logits=True)
    v, g = loss.value_and_grad(labels, z)
    rv, rg = ref.value_and_grad(np.where(keep, labels, 0), z, mask=keep)
    assert v == pytest.approx(rv, rel=1e-14)
    np.testing.assert_allclose(g, rg, rtol=1e-14)


# ---------------------------------------------------------------------------------------------
# numerical robustness and dtypes
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_stay_finite(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-800.0, 800.0, 50.0]], dtype=dtype)
    labels = np.array([1, 0])
    for loss, yt in [
        (SparseCategoricalCrossentropy(from_logits=True), labels),
        (CategoricalCrossentropy(from_logits=True), np.eye(3)[labels]),
        (BinaryCrossentropy(from_logits=True), np.array([[1, 0, 1], [0, 1, 0]])),
    ]:
        v, g = loss.value_and_grad(yt, z)
        assert np.isfinite(v) and np.isfinite(g).all(), type(loss).__name__
        assert v.dtype == dtype and g.dtype == dtype
    # the softplus form is exact far out: BCE(z=-800, t=1) = 800
    v = BinaryCrossentropy(from_logits=True)(np.array([[1.0]]), np.array([[-800.0]], dtype=dtype))
    assert v == pytest.approx(800.0)
    # SCCE with a 2e4 logit gap: loss = 2e4 exactly, gradient softmax - onehot
    v, g = SparseCategoricalCrossentropy(from_logits=True).value_and_grad([1], z[:1])
    assert v == pytest.approx(2e4)
    np.testing.assert_allclose(g, [[1.0, -1.0, 0.0]], atol=1e-6)


def test_probabilities_are_clipped_like_keras():
    # p = 0 and p = 1 exactly: clipped to [1e-7, 1 - 1e-7], finite, zero gradient where clipped
    v, g = BinaryCrossentropy().value_and_grad(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    assert v == pytest.approx(-np.log(EPS), rel=1e-6)
    assert np.isfinite(g).all() and not g.any()
    v, g = SparseCategoricalCrossentropy().value_and_grad([0], np.array([[0.0, 1.0]]))
    assert v == pytest.approx(-np.log(EPS), rel=1e-6)
    np.testing.assert_array_equal(g, 0.0)
    v = CategoricalCrossentropy()([[0.0, 1.0]], np.array([[0.0, 1.0]]))
    assert v == pytest.approx(-np.log(1 - EPS))


@pytest.mark.parametrize("kind, from_logits", KINDS)
def test_output_dtype_follows_y_pred(kind, from_logits, rng):
    yt, yp = _data((3, 4, 5), kind, from_logits, rng)
    loss = _make(kind, from_logits)
    v32, g32 = loss.value_and_grad(yt, yp.astype(np.float32), mask=np.ones((3, 4)))
    assert v32.dtype == np.float32 and g32.dtype == np.float32
    v64, g64 = loss.value_and_grad(yt, yp, mask=np.ones((3, 4)))
    assert v64.dtype == np.float64 and g64.dtype == np.float64
    assert v32 == pytest.approx(v64, rel=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------
def test_shape_mismatch_messages():
    with pytest.raises(ValueError) as err:
        MeanSquaredError()(np.zeros((4, 3)), np.zeros((4, 2)))
    msg = str(err.value)
    assert "(4, 3)" in msg and "(4, 2)" in msg and "same shape" in msg
    with pytest.raises(ValueError) as err:
        CategoricalCrossentropy()(np.zeros(4), np.full((4, 3), 1 / 3))
    msg = str(err.value)
    assert "(4,)" in msg and "(4, 3)" in msg and "one-hot" in msg
    assert "SparseCategoricalCrossentropy" in msg
    with pytest.raises(ValueError) as err:
        SparseCategoricalCrossentropy()(np.zeros((4, 3)), np.full((4, 5), 0.2))
    msg = str(err.value)
    assert "(4, 3)" in msg and "(4, 5)" in msg and "(4,)" in msg
    with pytest.raises(ValueError, match="one-hot"):
        SparseCategoricalCrossentropy()(np.eye(3), np.full((3, 3), 1 / 3))


def test_sparse_label_errors():
    p = np.full((2, 3, 4), 0.25)
    with pytest.raises(ValueError) as err:
        SparseCategoricalCrossentropy()(np.array([[0, 1, 2], [3, 4, 0]]), p)
    msg = str(err.value)
    assert "label 4" in msg and "4 classes" in msg and "(1, 1)" in msg
    with pytest.raises(ValueError, match="label -1 .* 4 classes"):
        SparseCategoricalCrossentropy()(np.array([[0, 1, 2], [3, -1, 0]]), p)
    with pytest.raises(ValueError) as err:
        SparseCategoricalCrossentropy()(np.array([[0, 1.5, 2], [3, 1, 0]]), p)
    msg = str(err.value)
    assert "non-integer value 1.5" in msg and "4 classes" in msg
    # integral floats are fine, and masked positions are not checked (padding labels)
    SparseCategoricalCrossentropy()(np.array([[0.0, 1.0, 2.0], [3.0, 1.0, 0.0]]), p)
    v, g = SparseCategoricalCrossentropy().value_and_grad(
        np.array([[0, 1, -1], [3, 99, 0]]), p, mask=np.array([[1, 1, 0], [1, 0, 1]])
    )
    assert np.isfinite(v) and g[0, 2].sum() == 0 and g[1, 1].sum() == 0


def test_weight_shape_errors():
    with pytest.raises(ValueError, match="sample_weight of shape \\(3,\\)"):
        MeanSquaredError()(np.zeros((4, 2)), np.zeros((4, 2)), sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="mask of shape \\(4, 5\\)"):
        MeanSquaredError()(np.zeros((4, 3, 2)), np.zeros((4, 3, 2)), mask=np.ones((4, 5)))


# ---------------------------------------------------------------------------------------------
# lookup and config
# ---------------------------------------------------------------------------------------------
def test_get_names_aliases_instances_dicts():
    cases = {
        "mse": MeanSquaredError,
        "MSE": MeanSquaredError,
        "mean_squared_error": MeanSquaredError,
        "MeanSquaredError": MeanSquaredError,
        "mae": MeanAbsoluteError,
        "mean_absolute_error": MeanAbsoluteError,
        "binary_crossentropy": BinaryCrossentropy,
        "categorical_crossentropy": CategoricalCrossentropy,
        "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    }
    for name, cls in cases.items():
        assert type(losses.get(name)) is cls, name
    inst = BinaryCrossentropy(from_logits=True)
    assert losses.get(inst) is inst
    got = losses.get({"class_name": "BinaryCrossentropy", "config": {"from_logits": True}})
    assert got.from_logits
    with pytest.raises(ValueError) as err:
        losses.get("hinge")
    msg = str(err.value)
    assert "'hinge'" in msg and "mse" in msg and "sparse_categorical_crossentropy" in msg
    with pytest.raises(TypeError):
        losses.get(42)


@pytest.mark.parametrize(
    "loss",
    [
        MeanSquaredError(),
        MeanAbsoluteError(reduction="sum", name="l1"),
        BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
        CategoricalCrossentropy(label_smoothing=0.2),
        SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    ],
)
def test_config_round_trip(loss):
    data = json.loads(json.dumps(serialize(loss)))
    rebuilt = deserialize(data)
    assert type(rebuilt) is type(loss) and rebuilt.get_config() == loss.get_config()
    assert losses.get(data).get_config() == loss.get_config()
