"""Metrics: small hand examples (including Keras's documented values), masking and weighting
semantics, accuracy resolution, perplexity = exp(cross-entropy), lookup and config."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rnnlab import losses, metrics
from rnnlab._registry import deserialize, serialize
from rnnlab.metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    Mean,
    MeanAbsoluteError,
    MeanSquaredError,
    Perplexity,
    RootMeanSquaredError,
    SparseCategoricalAccuracy,
)


# ---------------------------------------------------------------------------------------------
# Keras docstring examples
# ---------------------------------------------------------------------------------------------
def test_keras_documented_values():
    m = Accuracy()
    m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    assert m.result() == pytest.approx(0.75)
    m.reset_state()
    m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]], sample_weight=[1, 1, 0, 0])
    assert m.result() == pytest.approx(0.5)

    m = BinaryAccuracy()
    m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    assert m.result() == pytest.approx(0.75)
    m.reset_state()
    m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], sample_weight=[1, 0, 0, 1])
    assert m.result() == pytest.approx(0.5)

    m = CategoricalAccuracy()
    m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert m.result() == pytest.approx(0.5)
    m.reset_state()
    m.update_state(
        [[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], sample_weight=[0.7, 0.3]
    )
    assert m.result() == pytest.approx(0.3)

    m = SparseCategoricalAccuracy()
    m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    assert m.result() == pytest.approx(0.5)
    m.reset_state()
    m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]], sample_weight=[0.7, 0.3])
    assert m.result() == pytest.approx(0.3)

    m = Mean()
    m.update_state([1, 3, 5, 7])
    assert m.result() == 4.0
    m.reset_state()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert m.result() == 2.0

    # keras.metrics.MeanSquaredError / MeanAbsoluteError / RootMeanSquaredError docs
    yt, yp = [[0, 1], [0, 0]], [[1, 1], [0, 0]]
    for cls, plain, weighted in [
        (MeanSquaredError, 0.25, 0.5),
        (MeanAbsoluteError, 0.25, 0.5),
        (RootMeanSquaredError, 0.5, 0.70710677),
    ]:
        m = cls()
        m.update_state(yt, yp)
        assert m.result() == pytest.approx(plain)
        m.reset_state()
        m.update_state(yt, yp, sample_weight=[1, 0])
        assert m.result() == pytest.approx(weighted)


# ---------------------------------------------------------------------------------------------
# accumulation, masks, weights
# ---------------------------------------------------------------------------------------------
def test_running_mean_over_batches_and_reset():
    m = SparseCategoricalAccuracy()
    m.update_state([0, 1], [[0.9, 0.1], [0.8, 0.2]])  # 1 of 2
    m.update_state([1, 1, 0], [[0.1, 0.9], [0.2, 0.8], [0.3, 0.7]])  # 2 of 3
    assert m.result() == pytest.approx(3 / 5)
    assert isinstance(m.result(), float)
    m.reset_state()
    assert m.result() == 0.0


def test_loss_tracker_mean_with_batch_size_weights():
    m = Mean(name="loss")
    m.update_state(np.float32(2.0), sample_weight=4)
    m.update_state(5.0, sample_weight=2)
    assert m.result() == pytest.approx((8 + 10) / 6) and m.name == "loss"


def test_sequence_accuracy_with_mask():
    # (N, T, C) outputs, (N, T) labels, (N, T) mask: fraction of unmasked steps that are right
    y_pred = np.zeros((2, 3, 4))
    pred_ids = np.array([[1, 2, 3], [0, 0, 1]])
    y_pred[np.arange(2)[:, None], np.arange(3)[None, :], pred_ids] = 1.0
    labels = np.array([[1, 0, 3], [0, 2, 2]])
    mask = np.array([[1, 1, 0], [1, 1, 0]], dtype=bool)
    m = SparseCategoricalAccuracy()
    m.update_state(labels, y_pred, mask=mask)
    assert m.result() == pytest.approx(2 / 4)  # right: (0,0) and (1,0); masked (0,2) ignored
    m2 = CategoricalAccuracy()
    m2.update_state(np.eye(4)[labels], y_pred, mask=mask)
    assert m2.result() == pytest.approx(2 / 4)
    # sample_weight (N,) combined with the mask
    m3 = SparseCategoricalAccuracy()
    m3.update_state(labels, y_pred, sample_weight=[1.0, 3.0], mask=mask)
    assert m3.result() == pytest.approx((1 * 1 + 3 * 1) / (2 * 1 + 2 * 3))


def test_binary_accuracy_threshold_and_time_axis():
    m = BinaryAccuracy(threshold=0.0)  # logits
    m.update_state(np.array([[1, 0], [0, 0]]), np.array([[[2.0], [-1.0]], [[0.5], [-3.0]]]))
    assert m.result() == pytest.approx(3 / 4)


def test_regression_metrics_with_mask():
    yt = np.zeros((2, 3, 1))
    yp = np.array([[[1.0], [2.0], [3.0]], [[4.0], [5.0], [6.0]]])
    mask = np.array([[1, 1, 0], [1, 0, 0]])
    m = MeanAbsoluteError()
    m.update_state(yt, yp, mask=mask)
    assert m.result() == pytest.approx((1 + 2 + 4) / 3)
    r = RootMeanSquaredError()
    r.update_state(yt, yp, mask=mask)
    assert r.result() == pytest.approx(math.sqrt((1 + 4 + 16) / 3))


def test_shape_errors():
    with pytest.raises(ValueError, match="\\(2, 3\\).*\\(2, 4\\)"):
        CategoricalAccuracy().update_state(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="integer class ids"):
        CategoricalAccuracy().update_state(np.zeros(2), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="\\(2, 3\\).*\\(2, 4\\)"):
        SparseCategoricalAccuracy().update_state(np.zeros((2, 3)), np.zeros((2, 4)))


# ---------------------------------------------------------------------------------------------
# perplexity
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("from_logits", [True, False])
def test_perplexity_is_exp_of_mean_token_crossentropy(from_logits, rng):
    z = rng.normal(size=(3, 5, 7))
    pred = z if from_logits else np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    labels = rng.integers(0, 7, size=(3, 5))
    mask = rng.random((3, 5)) > 0.3
    ce = losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    m = Perplexity(from_logits=from_logits)
    m.update_state(labels, pred)
    assert m.result() == pytest.approx(math.exp(ce(labels, pred)), rel=1e-12)
    m.reset_state()
    m.update_state(labels, pred, mask=mask)
    assert m.result() == pytest.approx(math.exp(ce(labels, pred, mask=mask)), rel=1e-12)
    # dense labels give the same number
    d = Perplexity(from_logits=from_logits, sparse=False)
    d.update_state(np.eye(7)[labels], pred, mask=mask)
    assert d.result() == pytest.approx(m.result(), rel=1e-12)


def test_perplexity_token_mean_over_batches_and_uniform_value():
    m = Perplexity()
    m.update_state([[0, 1]], np.full((1, 2, 4), 0.25))
    m.update_state([[2, 3, 0]], np.full((1, 3, 4), 0.25))
    assert m.result() == pytest.approx(4.0)  # a uniform guess over 4 tokens
    assert Perplexity().result() == 0.0
    # mask_token_id drops padding tokens (not validated either)
    p = np.full((1, 3, 4), 0.25)
    p[0, 0] = [0.7, 0.1, 0.1, 0.1]
    t = Perplexity(mask_token_id=0)
    t.update_state([[1, 0, 0]], p)
    assert t.result() == pytest.approx(1 / 0.1)


# ---------------------------------------------------------------------------------------------
# get and accuracy resolution
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "loss, output_shape, expected",
    [
        ("binary_crossentropy", (None, 1), BinaryAccuracy),
        ("binary_crossentropy", (None, 5), BinaryAccuracy),
        ("mse", (None, 1), BinaryAccuracy),
        ("categorical_crossentropy", (None, 10), CategoricalAccuracy),
        ("sparse_categorical_crossentropy", (None, 20, 10), SparseCategoricalAccuracy),
        (losses.SparseCategoricalCrossentropy(from_logits=True), None, SparseCategoricalAccuracy),
        ({"class_name": "CategoricalCrossentropy", "config": {}}, None, CategoricalAccuracy),
    ],
)
def test_accuracy_resolved_from_the_loss(loss, output_shape, expected):
    for name in ("accuracy", "acc"):
        m = metrics.get(name, loss=loss, output_shape=output_shape)
        assert type(m) is expected
        assert m.name == name


def test_binary_accuracy_from_logits_loss_uses_threshold_zero():
    m = metrics.get("accuracy", loss=losses.BinaryCrossentropy(from_logits=True))
    assert isinstance(m, BinaryAccuracy) and m.threshold == 0.0


def test_accuracy_without_loss_uses_keras3_shape_rule():
    m = metrics.get("accuracy")
    m.update_state([1, 0], [[0.2, 0.8], [0.4, 0.6]])  # sparse: y_true of lower rank
    assert m.result() == pytest.approx(0.5) and m.kind == "sparse"
    m = metrics.get("accuracy")
    m.update_state([[0, 1], [1, 0]], [[0.2, 0.8], [0.4, 0.6]])
    assert m.kind == "categorical" and m.result() == pytest.approx(0.5)
    m = metrics.get("accuracy")
    m.update_state([[1], [0]], [[0.7], [0.6]])
    assert m.kind == "binary" and m.result() == pytest.approx(0.5)


def test_get_names():
    cases = {
        "mae": MeanAbsoluteError,
        "mean_absolute_error": MeanAbsoluteError,
        "mse": MeanSquaredError,
        "MSE": MeanSquaredError,
        "categorical_accuracy": CategoricalAccuracy,
        "sparse_categorical_accuracy": SparseCategoricalAccuracy,
        "binary_accuracy": BinaryAccuracy,
        "perplexity": Perplexity,
        "root_mean_squared_error": RootMeanSquaredError,
        "RootMeanSquaredError": RootMeanSquaredError,
    }
    for name, cls in cases.items():
        m = metrics.get(name)
        assert type(m) is cls and m.name == name
    inst = BinaryAccuracy()
    assert metrics.get(inst) is inst
    with pytest.raises(ValueError) as err:
        metrics.get("f1_score")
    msg = str(err.value)
    assert "'f1_score'" in msg and "accuracy" in msg and "mae" in msg and "perplexity" in msg


def test_loss_instance_as_metric():
    m = metrics.get(losses.MeanSquaredError())
    assert isinstance(m, MeanSquaredError) and m.name == "mean_squared_error"
    m = metrics.get(losses.BinaryCrossentropy(from_logits=True))
    m.update_state([[1.0]], [[0.0]])
    assert m.result() == pytest.approx(math.log(2))


@pytest.mark.parametrize(
    "metric",
    [
        BinaryAccuracy(threshold=0.3, name="acc"),
        CategoricalAccuracy(),
        SparseCategoricalAccuracy(name="sca"),
        Perplexity(from_logits=True, mask_token_id=0),
        RootMeanSquaredError(),
        Mean(name="loss"),
    ],
)
def test_config_round_trip(metric):
    data = json.loads(json.dumps(serialize(metric)))
    rebuilt = deserialize(data)
    assert type(rebuilt) is type(metric) and rebuilt.get_config() == metric.get_config()


def test_metric_dicts_with_names_shared_with_losses_resolve_to_metrics():
    # MeanSquaredError / MeanAbsoluteError are both a loss and a metric (as in Keras)
    m = metrics.get({"class_name": "MeanSquaredError", "config": {"name": "mse"}})
    assert isinstance(m, MeanSquaredError) and m.name == "mse"
    m = metrics.get(deserialize(serialize(MeanAbsoluteError(name="l1"))))
    assert isinstance(m, MeanAbsoluteError) and m.name == "l1"


def test_perplexity_follows_the_loss():
    m = metrics.get("perplexity", loss=losses.SparseCategoricalCrossentropy(from_logits=True))
    assert isinstance(m, Perplexity) and m.from_logits and m.sparse and m.name == "perplexity"
    m = metrics.get("perplexity", loss="categorical_crossentropy")
    assert not m.from_logits and not m.sparse
    assert not metrics.get("perplexity").from_logits
