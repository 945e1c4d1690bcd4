import json

import numpy as np
import pytest

from rnnlab.experiments import run_experiment
from rnnlab.models import load_model

ALL = ("simple_rnn", "lstm", "gru", "bilstm", "bag")


def _losses(path):
    rows = np.genfromtxt(path, delimiter=",", names=True)
    return np.atleast_1d(rows["loss"])


def test_sentiment_smoke_writes_files_and_learns(tmp_path, shared_data):
    result = run_experiment("sentiment", smoke=True, out=tmp_path, verbose=0,
                            data=shared_data / "movie_review_polarity")
    for name in ("config.json", "metrics.json", "model.rnnlab", "test_accuracy.png"):
        assert (tmp_path / name).exists(), name
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    for model in ALL:
        for name in (f"history-{model}.csv", f"model-{model}.rnnlab", f"curves-{model}.png"):
            assert (tmp_path / name).exists(), name
        assert f"test_accuracy_{model}" in metrics  # learning: losses below, and the next test
        assert f"val_accuracy_{model}" in metrics
        losses = _losses(tmp_path / f"history-{model}.csv")
        assert len(losses) == result.config["epochs"]
        assert losses[-1] < losses[0], model
    assert metrics["selected_model"] in ALL
    assert metrics["test_accuracy"] == metrics[f"test_accuracy_{metrics['selected_model']}"]
    model = load_model(tmp_path / "model.rnnlab")
    meta = model.metadata
    assert meta["experiment"] == "sentiment" and meta["model"] == metrics["selected_model"]
    assert meta["vocab"][:2] == ["<pad>", "<unk>"] and len(meta["vocab"]) <= 2000
    assert json.loads((tmp_path / "config.json").read_text())["resolved"]["maxlen"] == 40
    probs = model.predict(np.array([[0, 0, 5, 6, 7], [1, 2, 3, 4, 5]]), verbose=0)
    assert probs.shape == (2, 1) and np.all((probs > 0) & (probs < 1))
    # `rnnlab predict` on text: each line encoded with the saved vocabulary, scored in windows
    from rnnlab.experiments.forecasting import predict_file
    from rnnlab.experiments.sentiment import predict_windowed

    words = meta["vocab"][2:40]
    lines = [" ".join(words), " ".join(reversed(words[:7])) + " zzznotaword"]
    reviews = tmp_path / "reviews.txt"
    reviews.write_text("\n".join(lines) + "\n")
    got = predict_file(model, reviews)
    w = meta["windows"]
    ids = [list(range(2, 40)), [meta["vocab"].index(x) for x in reversed(words[:7])] + [1]]
    want = predict_windowed(model, ids, w["length"], w["stride"], w["average"])
    assert got.shape == (2, 1)
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-6)


def test_sentiment_models_option_runs_a_subset(tmp_path, shared_data):
    result = run_experiment("sentiment", {"models": "lstm,bag", "epochs": 1}, smoke=True,
                            out=tmp_path, verbose=0, data=shared_data / "movie_review_polarity")
    assert {"test_accuracy_lstm", "test_accuracy_bag", "lstm_minus_bag_test_accuracy"} <= set(
        result.metrics)
    assert "test_accuracy_gru" not in result.metrics
    assert not (tmp_path / "model-gru.rnnlab").exists()
    with pytest.raises(ValueError, match="--models"):
        run_experiment("sentiment", {"models": "lstm,transformer"}, smoke=True,
                       out=tmp_path / "bad", verbose=0, data=shared_data / "movie_review_polarity")


def test_settings_left_none_come_from_the_data_set_preset():
    from rnnlab.experiments.runner import resolve_config
    from rnnlab.experiments.sentiment import PRESETS, resolve_settings

    config = resolve_config("sentiment", {"units": 7})
    polarity = resolve_settings(config, "polarity")
    imdb = resolve_settings(config, "imdb")
    assert polarity["units"] == imdb["units"] == 7
    assert polarity["maxlen"] == PRESETS["polarity"]["maxlen"]
    assert imdb["maxlen"] == 200 and imdb["max_words"] == 20000 and imdb["embed_dim"] == 128
    assert all(v is not None for v in polarity.values() if v is not True)


def test_stratified_split_is_balanced_disjoint_and_seeded():
    from rnnlab.experiments.sentiment import stratified_split

    labels = np.array([0] * 1000 + [1] * 1000)
    tr, va, te = stratified_split(labels, 200, 200, seed=0)
    assert (len(tr), len(va), len(te)) == (1600, 200, 200)
    assert labels[va].sum() == 100 and labels[te].sum() == 100
    assert len(set(tr) | set(va) | set(te)) == 2000
    again = stratified_split(labels, 200, 200, seed=0)
    for a, b in zip((tr, va, te), again):
        np.testing.assert_array_equal(a, b)


def _fake_imdb(folder, rng):
    words = [f"w{i}" for i in range(1, 60)]
    word_index = {w: i for i, w in enumerate(words, start=1)}
    good, bad = list(range(1, 10)), list(range(10, 20))

    def reviews(n):
        xs, ys = [], []
        for k in range(n):
            y = k % 2
            pool = good if y else bad
            xs.append([int(v) for v in rng.choice(pool + list(range(20, 60)), rng.integers(5, 30))])
            ys.append(y)
        out = np.empty(n, dtype=object)
        out[:] = xs
        return out, np.array(ys)

    (xtr, ytr), (xte, yte) = reviews(80), reviews(20)
    np.savez(folder / "imdb.npz", x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    (folder / "imdb_word_index.json").write_text(json.dumps(word_index))


def test_sentiment_reads_imdb_when_given(tmp_path):
    data = tmp_path / "imdb"
    data.mkdir()
    _fake_imdb(data, np.random.default_rng(0))
    result = run_experiment("sentiment", {"models": "lstm,bag", "limit": 0, "imdb_val_size": 16},
                            smoke=True, out=tmp_path / "out", verbose=0, data=data)
    assert result.metrics["train_size"] == 64 and result.metrics["test_size"] == 20
    assert result.metrics["maxlen"] == result.config["maxlen"] == 40
    meta = load_model(tmp_path / "out" / "model-lstm.rnnlab").metadata
    assert meta["vocab"][:2] == ["<pad>", "<unk>"] and set(meta["vocab"][2:]) <= {
        f"w{i}" for i in range(1, 60)}
    assert "IMDB" in meta["dataset"]


def test_sentiment_resume_reuses_finished_models(tmp_path, shared_data):
    data = shared_data / "movie_review_polarity"
    first = run_experiment("sentiment", {"models": "bag"}, smoke=True, out=tmp_path, verbose=0,
                           data=data)
    stamp = (tmp_path / "model-bag.rnnlab").stat().st_mtime_ns
    again = run_experiment("sentiment", {"models": "bag"}, smoke=True, out=tmp_path, verbose=0,
                           data=data, resume=True)
    assert (tmp_path / "model-bag.rnnlab").stat().st_mtime_ns == stamp
    assert again.metrics["test_accuracy_bag"] == first.metrics["test_accuracy_bag"]


def test_sentiment_bag_baseline_beats_chance(tmp_path, shared_data):
    """A learning signal that can fail: on 400 training reviews the bag-of-embeddings baseline
    scores clearly above chance on 100 balanced test reviews (guessing: 0.5, standard error
    0.05)."""
    result = run_experiment("sentiment", {"models": "bag", "limit": 400, "epochs": 6},
                            smoke=True, out=tmp_path, verbose=0,
                            data=shared_data / "movie_review_polarity")
    assert result.metrics["test_size"] == 100
    assert result.metrics["test_accuracy_bag"] >= 0.65


def test_review_windows_cover_the_whole_review_and_end_at_its_last_token():
    from rnnlab.experiments.sentiment import review_windows

    seq = list(range(10))
    assert review_windows(seq, 4, 2) == [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7], [6, 7, 8, 9]]
    # strides that miss the end get one more window aligned to it
    assert review_windows(seq, 4, 3) == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    assert review_windows(seq, 4, 4) == [[0, 1, 2, 3], [4, 5, 6, 7], [6, 7, 8, 9]]
    assert review_windows(seq, 10, 5) == [seq] and review_windows(seq[:3], 4, 2) == [[0, 1, 2]]
    with pytest.raises(ValueError):
        review_windows(seq, 4, 0)


class _LastTokenModel:
    """P(positive) = the last token id / 100 of each (pre-padded) row; records its inputs."""

    def __init__(self):
        self.seen = []

    def predict(self, x, batch_size=None, verbose=0):
        self.seen.append(np.asarray(x))
        return (np.asarray(x)[:, -1] / 100.0).reshape(-1, 1)


def test_predict_windowed_averages_each_reviews_windows():
    from rnnlab.experiments.sentiment import binary_scores, predict_windowed

    reviews = [[10, 20, 30, 40, 50], [90, 70], [5, 6, 7, 8]]
    model = _LastTokenModel()
    probs = predict_windowed(model, reviews, length=3, stride=2)
    # windows: [10 20 30] [30 40 50] | [90 70] | [5 6 7] [6 7 8]
    np.testing.assert_allclose(probs, [(0.30 + 0.50) / 2, 0.70, (0.07 + 0.08) / 2])
    np.testing.assert_array_equal(model.seen[0], [[10, 20, 30], [30, 40, 50], [0, 90, 70],
                                                  [5, 6, 7], [6, 7, 8]])
    logit = predict_windowed(_LastTokenModel(), reviews, length=3, stride=2, average="logit")
    mean_logit = (np.log(0.3 / 0.7) + np.log(0.5 / 0.5)) / 2
    np.testing.assert_allclose(logit[0], 1 / (1 + np.exp(-mean_logit)))
    np.testing.assert_allclose(logit[1], 0.70)
    loss, acc = binary_scores(probs, np.array([1, 1, 0]))
    assert acc == pytest.approx(2 / 3)  # 0.4 is called negative: wrong; 0.7 and 0.075 right
    assert loss == pytest.approx(-(np.log(0.4) + np.log(0.7) + np.log(1 - 0.075)) / 3)


def test_flatten_model_has_the_slides_80161_parameters():
    from rnnlab.experiments.runner import resolve_config
    from rnnlab.experiments.sentiment import build_model, resolve_settings

    c = resolve_settings(resolve_config("sentiment", {"embed_dim": 8, "maxlen": 20, "crop": 0,
                                                      "embed_dropout": 0.0}), "polarity")
    model = build_model("flatten", 10000, c)
    model.build((None, 20))
    assert model.count_params() == 80161
    assert [type(layer).__name__ for layer in model.layers] == ["Embedding", "Flatten", "Dense"]


def test_the_slides_other_models_train(tmp_path, shared_data):
    """flatten, stacked_rnn, cnn and cnn_gru run through the experiment (windows long enough
    for two Conv1D(7) around MaxPooling1D(5))."""
    extra = "flatten,stacked_rnn,cnn,cnn_gru"
    result = run_experiment("sentiment", {"models": extra, "crop": 50, "window_stride": 25,
                                          "maxlen": 60, "epochs": 2},
                            smoke=True, out=tmp_path, verbose=0,
                            data=shared_data / "movie_review_polarity")
    for model in extra.split(","):
        losses = _losses(tmp_path / f"history-{model}.csv")
        assert losses[-1] < losses[0], model
        assert f"test_accuracy_{model}" in result.metrics
    layers = [type(x).__name__ for x in load_model(tmp_path / "model-cnn_gru.rnnlab").layers]
    assert layers == ["Embedding", "Conv1D", "MaxPooling1D", "Conv1D", "GRU", "Dense"]
