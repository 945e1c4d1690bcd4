"""Pretrained word vectors: the GloVe / word2vec text reader, and frozen vectors through fit."""

import numpy as np
import pytest

from rnnlab.experiments import run_experiment
from rnnlab.experiments.word_vectors import embedding_matrix, read_word_vectors
from rnnlab.models import load_model


def _write_vectors(path, words, dim, rng, header=False):
    lines = [f"{len(words)} {dim}"] if header else []
    lines += [w + " " + " ".join(f"{v:.6f}" for v in rng.normal(size=dim)) for w in words]
    path.write_text("\n".join(lines) + "\n")


def test_reads_glove_and_word2vec_text(tmp_path, rng):
    _write_vectors(tmp_path / "g.txt", ["the", "good", "bad"], 4, rng)
    _write_vectors(tmp_path / "w.txt", ["the", "good", "bad"], 4, np.random.default_rng(0),
                   header=True)
    words, vectors = read_word_vectors(tmp_path / "g.txt")
    assert words == ["the", "good", "bad"] and vectors.shape == (3, 4)
    words2, vectors2 = read_word_vectors(tmp_path / "w.txt")
    assert words2 == words and vectors2.shape == (3, 4)
    matrix, found = embedding_matrix(tmp_path / "g.txt", ["<pad>", "<unk>", "Good", "zebra"])
    assert found == 1 and matrix.shape == (4, 4)
    np.testing.assert_array_equal(matrix[2], vectors[1])     # looked up lower-cased
    assert not matrix[0].any() and np.abs(matrix[3]).max() <= 0.05


def test_bad_vector_files_are_clear_errors(tmp_path):
    (tmp_path / "bad.txt").write_text("the 1 2 3\ngood 1 2\n")
    with pytest.raises(ValueError, match=r"bad.txt:2: expected 3 numbers"):
        read_word_vectors(tmp_path / "bad.txt")
    with pytest.raises(FileNotFoundError, match="GloVe"):
        read_word_vectors(tmp_path / "missing.txt")


@pytest.mark.parametrize("freeze", [True, False])
def test_sentiment_starts_from_pretrained_vectors(tmp_path, shared_data, freeze):
    """Frozen vectors stay bit-identical through fit; fine-tuned ones move."""
    data = shared_data / "movie_review_polarity"
    # a small generated vector file over common English words of the reviews
    words = ["the", "a", "and", "of", "to", "is", "in", "film", "movie", "good", "bad",
             "great", "it", "that", "this", "with", "but", "not"]
    vectors = tmp_path / "vectors.txt"
    _write_vectors(vectors, words, 6, np.random.default_rng(1))
    result = run_experiment("sentiment", {"models": "lstm", "embeddings": str(vectors),
                                          "freeze_embeddings": freeze, "embed_dropout": 0.0},
                            smoke=True, out=tmp_path / "out", verbose=0, data=data)
    assert any("of" in note and "found" in note for note in result.notes)
    model = load_model(tmp_path / "out" / "model-lstm.rnnlab")
    expected, found = embedding_matrix(vectors, model.metadata["vocab"], seed=0)
    assert found >= 15
    learned = model.layers[0].get_weights()[0]
    assert learned.shape == expected.shape == (len(model.metadata["vocab"]), 6)
    if freeze:
        assert learned.tobytes() == expected.tobytes()
    else:
        assert not np.array_equal(learned, expected)
