"""to_categorical / pad_sequences (Keras-exact), the Keras-like Tokenizer and re-exports."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnlab.random
from rnnlab.preprocessing import Tokenizer as Tokenizer2
from rnnlab.preprocessing.sequence import pad_sequences as pad2
from rnnlab.preprocessing.text import Tokenizer, text_to_word_sequence, tokenizer_from_json
from rnnlab.utils import pad_sequences, set_random_seed, to_categorical


def test_reexports_are_the_same_objects():
    import rnnlab.data as data

    assert pad2 is pad_sequences is data.pad_sequences
    assert data.to_categorical is to_categorical
    assert set_random_seed is rnnlab.random.set_random_seed
    assert Tokenizer2 is Tokenizer


# --------------------------------------------------------------------------- to_categorical
def test_to_categorical_keras_doc_example():
    out = to_categorical([0, 1, 2, 3], num_classes=4)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.eye(4, dtype=np.float32))


def test_to_categorical_infers_num_classes_and_dtype():
    out = to_categorical(np.array([2, 0]), dtype="int64")
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0]])


def test_to_categorical_shapes_like_keras():
    assert to_categorical(np.zeros((5, 1), int), 3).shape == (5, 3)  # trailing 1 dropped
    assert to_categorical(np.zeros((2, 4), int), 3).shape == (2, 4, 3)
    assert to_categorical(np.zeros((2, 4, 1), int), 3).shape == (2, 4, 3)
    assert to_categorical(np.zeros((1,), int), 3).shape == (1, 3)
    assert to_categorical(np.zeros((0,), int), 3).shape == (0, 3)
    assert to_categorical(1, 3).shape == (3,)  # a scalar label


def test_to_categorical_accepts_integral_floats_and_bools():
    np.testing.assert_array_equal(to_categorical([1.0, 0.0]), [[0, 1], [1, 0]])
    np.testing.assert_array_equal(to_categorical([True, False]), [[0, 1], [1, 0]])


@pytest.mark.parametrize(
    ("y", "n", "match"),
    [
        ([0, 3], 3, r"labels must lie in \[0, 3\).*\[0, 3\]"),
        ([-1, 1], 3, r"labels must lie in \[0, 3\)"),
        ([0.5], 2, "non-integer"),
        (["a"], 2, "integer class labels"),
        ([], None, "empty y; pass num_classes"),
    ],
)
def test_to_categorical_errors(y, n, match):
    with pytest.raises(ValueError, match=match):
        to_categorical(y, n)


# --------------------------------------------------------------------------- pad_sequences
SEQ = [[1], [2, 3], [4, 5, 6]]


def test_pad_sequences_keras_doc_examples():
    out = pad_sequences(SEQ)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(
        pad_sequences(SEQ, value=-1), [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]]
    )
    np.testing.assert_array_equal(
        pad_sequences(SEQ, padding="post"), [[1, 0, 0], [2, 3, 0], [4, 5, 6]]
    )
    np.testing.assert_array_equal(pad_sequences(SEQ, maxlen=2), [[0, 1], [2, 3], [5, 6]])


def test_pad_sequences_truncating_post_and_both_post():
    np.testing.assert_array_equal(
        pad_sequences(SEQ, maxlen=2, truncating="post"), [[0, 1], [2, 3], [4, 5]]
    )
    np.testing.assert_array_equal(
        pad_sequences(SEQ, maxlen=2, padding="post", truncating="post"), [[1, 0], [2, 3], [4, 5]]
    )
    np.testing.assert_array_equal(
        pad_sequences(SEQ, maxlen=4, padding="post"), [[1, 0, 0, 0], [2, 3, 0, 0], [4, 5, 6, 0]]
    )


def test_pad_sequences_dtypes_empty_and_vectors():
    out = pad_sequences([[0.5, 1.5], []], dtype="float32", value=-1.0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0.5, 1.5], [-1, -1]])
    # float values into the default int32 are truncated, as in Keras
    np.testing.assert_array_equal(pad_sequences([[1.7]], maxlen=2), [[0, 1]])
    # a sequence of feature vectors: sample shape from the first non-empty sequence
    vec = pad_sequences([np.ones((2, 3)), [], np.zeros((1, 3))], dtype="float64")
    assert vec.shape == (3, 2, 3)
    np.testing.assert_array_equal(vec[1], 0.0)
    np.testing.assert_array_equal(vec[2, 0], 0.0)
    # strings need dtype=object
    s = pad_sequences([["a", "b"], ["c"]], dtype=object, value="")
    assert s.tolist() == [["a", "b"], ["", "c"]]
    # degenerate inputs Keras fails on
    assert pad_sequences([], maxlen=None).shape == (0, 0)
    assert pad_sequences(SEQ, maxlen=0).shape == (3, 0)
    # numpy array input
    np.testing.assert_array_equal(
        pad_sequences(np.array([[1, 2], [3, 4]]), maxlen=3), [[0, 1, 2], [0, 3, 4]]
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"padding": "middle"}, 'Padding type "middle" not understood'),
        ({"truncating": "mid"}, 'Truncating type "mid" not understood'),
        ({"value": "x"}, "dtype=object"),
        ({"maxlen": -1}, "non-negative"),
    ],
)
def test_pad_sequences_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pad_sequences(SEQ, **kwargs)


def test_pad_sequences_rejects_non_iterables_and_ragged_samples():
    with pytest.raises(ValueError, match="list of iterables. Found non-iterable: 3"):
        pad_sequences([[1], 3])
    with pytest.raises(ValueError, match="`sequences` must be iterable"):
        pad_sequences(5)
    with pytest.raises(ValueError, match=r"Shape of sample \(2,\) of sequence at position 1"):
        pad_sequences([np.zeros((1, 3)), np.zeros((1, 2))], dtype="float32")


def _reference_pad(seqs, maxlen, padding, truncating, value):
    """Plain-Python statement of Keras' pad/truncate rules."""
    if maxlen is None:
        maxlen = max((len(s) for s in seqs), default=0)
    rows = []
    for s in seqs:
        s = list(s)
        if len(s) > maxlen:
            s = s[len(s) - maxlen :] if truncating == "pre" else s[:maxlen]
        pad = [value] * (maxlen - len(s))
        rows.append(pad + s if padding == "pre" else s + pad)
    return rows


@settings(max_examples=60, deadline=None)
@given(
    seqs=st.lists(st.lists(st.integers(-50, 50), max_size=7), max_size=6),
    maxlen=st.one_of(st.none(), st.integers(0, 9)),
    padding=st.sampled_from(["pre", "post"]),
    truncating=st.sampled_from(["pre", "post"]),
    value=st.integers(-3, 3),
)
def test_pad_sequences_matches_reference(seqs, maxlen, padding, truncating, value):
    out = pad_sequences(seqs, maxlen, "int64", padding, truncating, value)
    expected = _reference_pad(seqs, maxlen, padding, truncating, value)
    assert out.shape[0] == len(seqs)
    assert out.tolist() == expected


# --------------------------------------------------------------------------- Tokenizer
TEXTS = ["The cat sat on the mat.", "The dog ate my homework!"]


def test_text_to_word_sequence_like_keras():
    assert text_to_word_sequence("Hello, World!  It's--fine\tok") == [
        "hello",
        "world",
        "it's",
        "fine",
        "ok",
    ]
    assert text_to_word_sequence("A B", lower=False) == ["A", "B"]


def test_tokenizer_word_index_order_count_then_first_appearance():
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    assert tok.word_index == {
        "the": 1, "cat": 2, "sat": 3, "on": 4, "mat": 5, "dog": 6, "ate": 7, "my": 8, "homework": 9,
    }  # fmt: skip
    assert tok.index_word[1] == "the"
    assert tok.word_counts["the"] == 3
    assert tok.word_docs["the"] == 2
    assert tok.document_count == 2
    assert tok.texts_to_sequences(["the cat ate a fish"]) == [[1, 2, 7]]  # unknown words dropped


def test_tokenizer_oov_and_num_words():
    tok = Tokenizer(num_words=3, oov_token="<OOV>")
    tok.fit_on_texts(TEXTS)
    assert tok.word_index["<OOV>"] == 1 and tok.word_index["the"] == 2
    assert len(tok.word_index) == 10  # word_index keeps every word; num_words limits conversion
    assert tok.texts_to_sequences(["the cat ate a fish"]) == [[2, 1, 1, 1, 1]]
    assert tok.sequences_to_texts([[2, 1, 9]]) == ["the <OOV> <OOV>"]
    no_limit = Tokenizer(oov_token="<OOV>")
    no_limit.fit_on_texts(TEXTS)
    assert no_limit.texts_to_sequences(["the cat ate a fish"]) == [[2, 3, 8, 1, 1]]
    assert no_limit.sequences_to_texts([[2, 3, 8]]) == ["the cat ate"]


def test_tokenizer_char_level_ignores_filters():
    tok = Tokenizer(char_level=True)
    tok.fit_on_texts(["Aab!", "b"])
    assert tok.word_index == {"a": 1, "b": 2, "!": 3}
    assert tok.texts_to_sequences(["ba?"]) == [[2, 1]]
    upper = Tokenizer(char_level=True, lower=False)
    upper.fit_on_texts(["Aa"])
    assert upper.word_index == {"A": 1, "a": 2}


def test_tokenizer_matrix_modes_and_json_round_trip():
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    m = tok.texts_to_matrix(["the the cat"], mode="count")
    assert m.shape == (1, 10)
    assert m[0, 1] == 2 and m[0, 2] == 1 and m.sum() == 3
    np.testing.assert_allclose(tok.texts_to_matrix(["the the cat"], mode="freq")[0, 1], 2 / 3)
    assert tok.texts_to_matrix(["the the cat"], mode="binary")[0, 1] == 1
    tfidf = tok.texts_to_matrix(["the cat"], mode="tfidf")
    np.testing.assert_allclose(tfidf[0, 1], np.log(1 + 2 / 3))
    with pytest.raises(ValueError, match="Unknown vectorization mode 'bag'"):
        tok.texts_to_matrix(["x"], mode="bag")
    with pytest.raises(ValueError, match="fit on some text data first"):
        Tokenizer().texts_to_matrix(["x"])
    back = tokenizer_from_json(tok.to_json())
    assert back.word_index == tok.word_index
    assert back.texts_to_sequences(TEXTS) == tok.texts_to_sequences(TEXTS)


def test_tokenizer_rejects_a_single_string():
    tok = Tokenizer()
    with pytest.raises(TypeError, match="list of texts, got a single string"):
        tok.fit_on_texts("the cat")
    with pytest.raises(ValueError, match="num_words must be None or a non-negative integer"):
        Tokenizer(num_words=-1)


def test_set_random_seed_reexport_validates():
    with pytest.raises(ValueError, match="non-negative integer"):
        set_random_seed(-1)
