"""CSV column reading, scalers, sliding windows, chronological splits, synthetic series."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.data import (
    DataFormatError,
    MinMaxScaler,
    MissingValuesError,
    MissingValuesWarning,
    StandardScaler,
    UnknownColumnError,
    chronological_split,
    count_windows,
    counting_sequences,
    prepare_timeseries,
    read_csv_column,
    read_csv_columns,
    read_csv_header,
    sine_series,
    sine_windows,
    sliding_windows,
)


def write(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8", newline="")
    return p


# --------------------------------------------------------------------------- CSV
def test_read_csv_column_tolerant_numbers_and_headers(tmp_path):
    p = write(
        tmp_path,
        '\ufeffDate, Close ,"Volume"\r\n'
        '2020-01-02,"1,234.5",10\r\n'
        '2020-01-03, 7.25 ,"2,000,000"\r\n'
        "\r\n"
        "2020-01-06,-3e1,+5",  # no final newline
    )
    assert read_csv_header(p) == ["Date", "Close", "Volume"]
    close = read_csv_column(p, "Close")
    assert close.dtype == np.float64
    np.testing.assert_array_equal(close, [1234.5, 7.25, -30.0])
    np.testing.assert_array_equal(read_csv_column(p, " volume "), [10, 2e6, 5])  # case/space
    np.testing.assert_array_equal(read_csv_column(p, 1), close)
    both = read_csv_columns(p, ["Close", "Volume"], dtype="float32")
    assert both.shape == (3, 2) and both.dtype == np.float32


def test_unknown_column_lists_available_columns(tmp_path):
    p = write(tmp_path, "a,b\n1,2\n")
    with pytest.raises(
        UnknownColumnError, match="column 'c' not found .*available columns: 'a', 'b'"
    ):
        read_csv_column(p, "c")
    with pytest.raises(KeyError):  # also a KeyError
        read_csv_column(p, "c")
    with pytest.raises(UnknownColumnError, match="column index 5 out of range.*2 columns"):
        read_csv_column(p, 5)


def test_missing_values_error_by_default_with_count_and_lines(tmp_path):
    p = write(tmp_path, "t,x\n1,1.0\n2,\n3,NA\n4,4.0\n5, nan \n")
    with pytest.raises(
        MissingValuesError, match=r"3 missing value\(s\).*line\(s\) 3, 4, 6.*missing='drop'"
    ) as info:
        read_csv_column(p, "x")
    assert info.value.lines == [3, 4, 6] and info.value.column == "x"
    assert isinstance(info.value, ValueError)


def test_missing_values_drop_and_ffill_are_reported(tmp_path):
    p = write(tmp_path, "t,x\n1,1.0\n2,\n3,NA\n4,4.0\n")
    with pytest.warns(MissingValuesWarning, match=r"2 missing value\(s\) dropped.*line\(s\) 3, 4"):
        x, rep = read_csv_column(p, "x", missing="drop", return_report=True)
    np.testing.assert_array_equal(x, [1.0, 4.0])
    assert rep.missing == {"x": [3, 4]} and rep.n_missing == 2
    assert rep.dropped_lines == [3, 4] and rep.lines == [2, 5] and rep.n_rows == 4
    with pytest.warns(MissingValuesWarning, match="forward-filled"):
        x, rep = read_csv_column(p, "x", missing="ffill", return_report=True)
    np.testing.assert_array_equal(x, [1.0, 1.0, 1.0, 4.0])
    assert rep.filled_lines == [3, 4]
    # multi-column drop removes a row missing in any requested column
    q = write(tmp_path, "a,b\n1,\n2,2\n,3\n", "q.csv")
    with pytest.warns(MissingValuesWarning):
        np.testing.assert_array_equal(read_csv_columns(q, ["a", "b"], missing="drop"), [[2, 2]])


def test_missing_policy_errors(tmp_path):
    p = write(tmp_path, 'x\n""\n2\n')
    with pytest.raises(MissingValuesError, match="cannot forward-fill column 'x'.*line 2"):
        read_csv_column(p, "x", missing="ffill")
    with pytest.raises(ValueError, match="missing must be 'error', 'drop' or 'ffill'"):
        read_csv_column(p, "x", missing="zero")
    allmissing = write(tmp_path, "x\nNA\n", "m.csv")
    with pytest.raises(MissingValuesError, match="every row has a missing value"):
        read_csv_column(allmissing, "x", missing="drop")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty; expected a CSV file with a header row"),
        ("a,b\n", "has a header but no data rows"),
        (
            "a,b\n1,2\n3\n4,5,6\n",
            r"2 malformed row\(s\).*header's 2.*line 3: 1 fields.*line 4: 3 fields",
        ),
        ("a,b\n1,1,234.5\n", "thousands separators must be quoted"),
        ("a,b\n1,abc\n2,1,5\n", "field count differs"),
        ('a,b\n1,abc\n2,"1,5"\n', r"2 value\(s\) are not numbers.*line 2 column 'b': 'abc'.*'1,5'"),
    ],
)
def test_malformed_csv_files(tmp_path, text, match):
    p = write(tmp_path, text)
    with pytest.raises(DataFormatError, match=match):
        read_csv_column(p, "b")


def test_missing_csv_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="CSV file not found.*nope.csv"):
        read_csv_column(tmp_path / "nope.csv", "x")


# --------------------------------------------------------------------------- scalers
@pytest.mark.parametrize("scaler", [MinMaxScaler(), MinMaxScaler((-1, 1)), StandardScaler()])
def test_scalers_exact_inverse_and_train_only_fit(scaler, rng):
    train = rng.normal(5.0, 3.0, size=(50, 3))
    test = rng.normal(9.0, 3.0, size=(20, 3))
    scaler.fit(train)
    z = scaler.transform(test)
    np.testing.assert_allclose(scaler.inverse_transform(z), test, rtol=0, atol=1e-12)
    zt = scaler.transform(train)
    if isinstance(scaler, MinMaxScaler):
        lo, hi = scaler.feature_range
        np.testing.assert_allclose(zt.min(0), lo, atol=1e-12)
        np.testing.assert_allclose(zt.max(0), hi, atol=1e-12)
        np.testing.assert_array_equal(scaler.data_min_, train.min(0))
    else:
        np.testing.assert_allclose(zt.mean(0), 0, atol=1e-12)
        np.testing.assert_allclose(zt.std(0), 1, atol=1e-12)
    # 3-D windows and a single feature's values (e.g. predictions of one column)
    w = test.reshape(4, 5, 3)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(w)), w, atol=1e-12)
    col = scaler.inverse_transform(z[:, 2], feature=2)
    np.testing.assert_allclose(col, test[:, 2], atol=1e-12)
    np.testing.assert_allclose(scaler.transform(test[:, [0, 2]], feature=[0, 2]), z[:, [0, 2]])
    back = type(scaler).from_dict(scaler.to_dict())
    np.testing.assert_allclose(back.transform(test), z)


def test_scalers_1d_float32_and_constant_features():
    s = MinMaxScaler().fit(np.array([1.0, 3.0, 5.0]))
    out = s.transform(np.array([2.0, 5.0], dtype=np.float32))
    assert out.dtype == np.float32 and out.shape == (2,)
    np.testing.assert_allclose(out, [0.25, 1.0])
    const = StandardScaler().fit(np.full((4, 1), 7.0))
    np.testing.assert_array_equal(const.transform(np.array([[7.0]])), [[0.0]])
    np.testing.assert_array_equal(MinMaxScaler().fit([[2.0], [2.0]]).transform([[2.0]]), [[0.0]])


def test_scaler_errors():
    with pytest.raises(RuntimeError, match="not fitted yet; call fit"):
        MinMaxScaler().transform([1.0])
    s = StandardScaler().fit(np.zeros((3, 2)))
    with pytest.raises(
        ValueError, match="data has 3 feature\\(s\\) but the scaler was fitted on 2"
    ):
        s.transform(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        MinMaxScaler().fit([1.0, np.nan])
    with pytest.raises(ValueError, match="min < max"):
        MinMaxScaler((1, 0))


# --------------------------------------------------------------------------- windows & splits
def test_sliding_windows_shapes_and_alignment():
    series = np.arange(10.0)
    x, y = sliding_windows(series, lookback=3)
    assert x.shape == (7, 3, 1) and y.shape == (7, 1)
    np.testing.assert_array_equal(x[0, :, 0], [0, 1, 2])
    np.testing.assert_array_equal(y[:, 0], np.arange(3, 10))
    x, y = sliding_windows(series, lookback=3, horizon=2, stride=2, target=0)
    assert count_windows(10, 3, 2, 2) == 3 == len(x)
    np.testing.assert_array_equal(x[:, 0, 0], [0, 2, 4])
    np.testing.assert_array_equal(y, [4, 6, 8])  # 2 steps after the window's last value
    xm, ym = sliding_windows(series, 3, horizon=2, multi_step=True, target=0)
    assert ym.shape == (6, 2)
    np.testing.assert_array_equal(ym[0], [3, 4])
    multi = np.stack([np.arange(8.0), -np.arange(8.0)], axis=1)
    xf, yf = sliding_windows(multi, 4)
    assert xf.shape == (4, 4, 2) and yf.shape == (4, 2)
    np.testing.assert_array_equal(yf[0], [4, -4])
    assert sliding_windows(multi, 4, target=[1])[1].shape == (4, 1)
    assert sliding_windows(multi, 4, horizon=2, multi_step=True)[1].shape == (3, 2, 2)


def test_sliding_windows_errors():
    with pytest.raises(
        ValueError, match="too short for lookback=5 \\+ horizon=1 \\(need at least 6"
    ):
        sliding_windows(np.arange(5.0), 5)
    with pytest.raises(ValueError, match="stride must be a positive integer"):
        sliding_windows(np.arange(5.0), 2, stride=0)
    with pytest.raises(ValueError, match="series must be"):
        sliding_windows(np.zeros((2, 2, 2)), 1)


def test_chronological_split_keeps_order():
    a, b, c = chronological_split(np.arange(20), (0.6, 0.2, 0.2))
    np.testing.assert_array_equal(np.concatenate([a, b, c]), np.arange(20))
    assert (len(a), len(b), len(c)) == (12, 4, 4)
    with pytest.raises(ValueError, match="positive and sum to 1"):
        chronological_split(np.arange(20), (0.5, 0.2))
    with pytest.raises(ValueError, match="part 1 of the split is empty"):
        chronological_split(np.arange(3), (0.9, 0.05, 0.05))


def test_prepare_timeseries_fits_on_train_only_no_leakage():
    series = np.arange(100.0)
    data = prepare_timeseries(series, lookback=5, fractions=(0.6, 0.2, 0.2), scaler="minmax")
    assert data.bounds == [0, 60, 80, 100]
    # the scaler saw only the training rows 0..59
    assert data.scaler.data_min_[0] == 0.0 and data.scaler.data_max_[0] == 59.0
    assert data.x_train.shape == (55, 5, 1)
    raw = lambda a: data.inverse_target(a)  # noqa: E731
    # training windows and targets come from the training part only
    assert raw(data.x_train).max() <= 59.0 + 1e-9 and raw(data.y_train).max() <= 59.0 + 1e-9
    # validation/test windows stay inside their own part (no context)
    assert raw(data.x_val).min() >= 60 - 1e-9 and raw(data.y_val).max() <= 79 + 1e-9
    np.testing.assert_allclose(raw(data.y_test)[:, 0], np.arange(85, 100))
    # with context the first validation window reaches back into the past, targets do not
    ctx = prepare_timeseries(series, lookback=5, fractions=(0.6, 0.2, 0.2), context=True)
    np.testing.assert_allclose(ctx.inverse_target(ctx.y_val)[:, 0], np.arange(60, 80))
    np.testing.assert_allclose(ctx.inverse_target(ctx.x_val[0, :, 0]), np.arange(55, 60))
    # multivariate, one target column, standard scaling, two parts
    multi = np.stack([series, series**2], axis=1)
    m = prepare_timeseries(multi, 4, fractions=(0.8, 0.2), scaler="standard", target=1)
    assert m.x_test is None and m.y_train.shape == (76,)
    np.testing.assert_allclose(m.inverse_target(m.y_val), (np.arange(84, 100.0)) ** 2)
    none = prepare_timeseries(series, 3, scaler=None, fractions=(0.5, 0.5))
    np.testing.assert_array_equal(none.y_train[:, 0], np.arange(3, 50))


def test_prepare_timeseries_errors():
    with pytest.raises(ValueError, match="the validation part has 5 steps, too few"):
        prepare_timeseries(np.arange(50.0), 10, fractions=(0.8, 0.1, 0.1))
    with pytest.raises(ValueError, match="2 or 3 positive numbers"):
        prepare_timeseries(np.arange(50.0), 3, fractions=(1.0,))
    with pytest.raises(ValueError, match="scaler must be 'minmax', 'standard'"):
        prepare_timeseries(np.arange(50.0), 3, scaler="robust")


# --------------------------------------------------------------------------- synthetic
def test_sine_series_and_windows():
    s = sine_series(100, period=20.0)
    assert s.shape == (100,) and s.dtype == np.float32
    np.testing.assert_allclose(s[5], 1.0, atol=1e-6)
    x, y = sine_windows(64, lookback=10, horizon=1, period=20.0, seed=0)
    assert x.shape == (64, 10, 1) and y.shape == (64, 1)
    # the target continues the wave: sin(a + 2 pi t / p) is determined by the last two points
    w = 2 * np.pi / 20.0
    pred = 2 * np.cos(w) * x[:, -1, 0] - x[:, -2, 0]
    np.testing.assert_allclose(pred, y[:, 0], atol=1e-5)
    x2, _ = sine_windows(64, lookback=10, period=20.0, seed=0)
    np.testing.assert_array_equal(x, x2)
    noisy = sine_series(50, noise=0.1, seed=1)
    assert not np.allclose(noisy, sine_series(50))


def test_counting_sequences_elman():
    x, y = counting_sequences(seed=0)
    assert x.shape == (20, 10, 1) and y.shape == (20, 1)
    assert set(np.unique(x)) <= {0.0, 1.0}
    np.testing.assert_array_equal(y[:, 0], x.sum(axis=(1, 2)))
    xc, yc = counting_sequences(5, 8, cumulative=True, seed=1)
    assert yc.shape == (5, 8, 1)
    np.testing.assert_array_equal(yc[..., 0], np.cumsum(xc[..., 0], axis=1))
    with pytest.raises(ValueError, match="0 <= p <= 1"):
        counting_sequences(p=2.0)
