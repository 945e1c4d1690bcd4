"""MaxPooling1D, AveragePooling1D and SpatialDropout1D: gradients, equality with Keras 3
(outputs and autograd input gradients), the padding rule, masks, configs, errors and dtypes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnlab._registry import deserialize, serialize
from rnnlab.gradcheck import check_layer
from rnnlab.layers import AveragePooling1D, Input, MaxPooling1D, SpatialDropout1D
from rnnlab.layers.convolutional import same_padding

# pool_size, strides, padding; the last two 'same' cases pad unevenly (1 left, 2 right)
CASES = [(2, None, "valid"), (3, 1, "valid"), (3, 2, "valid"), (2, None, "same"),
         (3, 1, "same"), (3, 2, "same"), (4, 1, "same"), (4, 3, "same")]


def _uneven(pool: int, strides: int | None, padding: str, steps: int) -> bool:
    left, right = same_padding(steps, pool, strides or pool)
    return padding == "same" and left != right


# Keras on torch repeats the edge step where "same" pads unevenly, so its averages differ there
# from TensorFlow's rule (checked by hand in test_average_same_padding_counts_real_steps_only)
KERAS_CASES = [(cls, case, steps) for cls in ("MaxPooling1D", "AveragePooling1D")
               for case in CASES for steps in (7, 8)
               if cls == "MaxPooling1D" or not _uneven(*case, steps)]


@pytest.mark.parametrize("cls", [MaxPooling1D, AveragePooling1D])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_pooling_gradcheck(rng, cls, case, data_format):
    pool, strides, padding = case
    layer = cls(pool, strides, padding, data_format=data_format, dtype="float64")
    x = rng.standard_normal((2, 7, 3))  # distinct values: the maximum is differentiable
    if data_format == "channels_first":
        x = np.swapaxes(x, 1, 2).copy()
    report = check_layer(layer, x, seed=2)
    assert report.max_error < 1e-7, report


@pytest.mark.parametrize("cls,case,steps", KERAS_CASES)
def test_pooling_matches_keras(rng, keras_oracle, cls, case, steps):
    pool, strides, padding = case
    theirs = getattr(keras_oracle.keras.layers, cls)(pool, strides, padding, dtype="float64")
    ours = {"MaxPooling1D": MaxPooling1D, "AveragePooling1D": AveragePooling1D}[cls](
        pool, strides, padding, dtype="float64")
    x = rng.standard_normal((2, steps, 3))
    y, cache = ours.forward(x)
    g = rng.standard_normal(y.shape)
    (ky,), (kdx,), _ = keras_oracle.run(theirs, x, g)
    np.testing.assert_allclose(y, ky, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.backward(g, cache), kdx, rtol=1e-12, atol=1e-12)
    assert ours.compute_output_shape((None, steps, 3)) == theirs.compute_output_shape(
        (None, steps, 3))


def test_average_same_padding_counts_real_steps_only(rng):
    # TensorFlow/JAX/NumPy Keras: padded steps never count. Hand-computed windows for T=7,
    # pool 4, stride 1: padding (1, 2), so window 0 is steps 0..2 and window 6 is step 6 alone.
    x = rng.standard_normal((1, 7, 2))
    y = AveragePooling1D(4, 1, "same", dtype="float64")(x)
    xp = np.concatenate([np.full((1, 1, 2), np.nan), x, np.full((1, 2, 2), np.nan)], axis=1)
    expected = np.stack([np.nanmean(xp[:, i:i + 4], axis=1) for i in range(7)], axis=1)
    np.testing.assert_allclose(y, expected, atol=1e-12)
    y_max = MaxPooling1D(4, 1, "same", dtype="float64")(x)
    np.testing.assert_allclose(
        y_max, np.stack([np.nanmax(xp[:, i:i + 4], axis=1) for i in range(7)], axis=1))


def test_pooling_channels_first_matches_keras(rng, keras_oracle):
    x = rng.standard_normal((2, 3, 7))  # padding (1, 1): no edge repetition on torch
    for name, cls in (("MaxPooling1D", MaxPooling1D), ("AveragePooling1D", AveragePooling1D)):
        theirs = getattr(keras_oracle.keras.layers, name)(3, 2, "same",
                                                          data_format="channels_first",
                                                          dtype="float64")
        (ky,), _, _ = keras_oracle.run(theirs, x)
        ours = cls(3, 2, "same", data_format="channels_first", dtype="float64")
        np.testing.assert_allclose(ours(x), ky, atol=1e-12)


def test_max_pooling_ties_go_to_the_first(rng):
    layer = MaxPooling1D(2, dtype="float64")
    x = np.ones((1, 4, 1))
    y, cache = layer.forward(x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(y), cache)[0, :, 0], [1, 0, 1, 0])


@pytest.mark.parametrize("cls", [MaxPooling1D, AveragePooling1D])
def test_pooling_config_shapes_masks_errors(rng, cls):
    layer = cls(pool_size=3, strides=2, padding="same", dtype="float64")
    cfg = layer.get_config()
    assert type(layer).from_config(json.loads(json.dumps(cfg))).get_config() == cfg
    assert deserialize(json.loads(json.dumps(serialize(layer)))).get_config() == cfg
    t = layer(Input((9, 4)))
    assert t.shape == (None, 5, 4) and not t.has_mask
    assert cls()(Input((None, 4))).shape == (None, None, 4)
    assert layer.compute_mask(None, np.ones((2, 9), bool)) is None
    assert cls()(rng.standard_normal((2, 6, 3)).astype("float32")).dtype == np.float32
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        cls(padding="causal")
    with pytest.raises(ValueError, match="pool_size must be a positive integer"):
        cls(pool_size=0)
    with pytest.raises(ValueError, match=r"3-D array \(batch, steps, channels\)"):
        cls()(rng.standard_normal((2, 6)))
    with pytest.raises(ValueError, match="fewer than pool_size 4"):
        cls(4)(rng.standard_normal((2, 3, 1)))


# -- SpatialDropout1D ------------------------------------------------------------------------------
def test_spatial_dropout_drops_whole_channels(rng):
    layer = SpatialDropout1D(0.5, seed=3, dtype="float64")
    x = rng.standard_normal((8, 6, 10)) + 5.0
    assert np.array_equal(layer(x), x)  # inference: identity
    y = layer(x, training=True)
    kept = y != 0
    assert np.all(kept == kept[:, :1, :])  # one decision per (sample, channel) for all steps
    assert 0 < kept[:, 0].mean() < 1
    np.testing.assert_allclose(y[kept], 2.0 * x[kept])


def test_spatial_dropout_gradcheck_config_errors(rng):
    layer = SpatialDropout1D(0.3, seed=1, dtype="float64")
    report = check_layer(layer, rng.standard_normal((3, 4, 5)), training=True)
    assert report.max_error < 1e-7, report
    cfg = layer.get_config()
    assert cfg["rate"] == 0.3 and cfg["seed"] == 1 and "noise_shape" not in cfg
    clone = deserialize(json.loads(json.dumps(serialize(layer))))
    assert isinstance(clone, SpatialDropout1D) and clone.get_config() == cfg
    mask = np.ones((2, 4), dtype=bool)
    assert layer.compute_mask(None, mask) is mask
    with pytest.raises(ValueError, match=r"3-D array \(batch, steps, channels\)"):
        layer(rng.standard_normal((3, 4)), training=True)


def test_spatial_dropout_config_matches_keras(keras_oracle):
    theirs = keras_oracle.keras.layers.SpatialDropout1D(0.25, seed=4).get_config()
    ours = SpatialDropout1D(0.25, seed=4).get_config()
    assert {k: theirs[k] for k in ("rate", "seed")} == {k: ours[k] for k in ("rate", "seed")}
