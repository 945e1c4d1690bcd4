"""Tokenisation, vocabularies, LM batching, Keras-style generators, char windows, addition data."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlab.data import (
    ADDITION_CHARS,
    KerasBatchGenerator,
    UnknownTokenError,
    Vocabulary,
    addition_dataset,
    addition_strings,
    batch_generator,
    build_char_vocab,
    build_vocab,
    char_tokenize,
    char_windows,
    count_char_windows,
    decode_addition,
    lm_batches,
    lm_num_batches,
    one_hot_encode,
    word_tokenize,
)


# --------------------------------------------------------------------------- tokenisation
def test_word_tokenize_adds_one_eos_per_line_like_zaremba():
    text = " the cat \n sat  on\n\n mat \n"
    assert word_tokenize(text) == ["the", "cat", "sat", "on", "mat"]
    assert word_tokenize(text, eos="<eos>") == (
        "the cat <eos> sat on <eos> <eos> mat <eos>".split()
    )
    # what Zaremba's reader gives on newline-terminated text
    assert word_tokenize(text, eos="<eos>") == text.replace("\n", " <eos> ").split()
    assert word_tokenize("a b\r\nc", eos="<eos>") == ["a", "b", "<eos>", "c", "<eos>"]
    assert word_tokenize("x \n ", eos="E") == ["x", "E"]  # trailing whitespace: no extra line
    assert word_tokenize("", eos="E") == []
    assert word_tokenize("The Cat", lower=True) == ["the", "cat"]


def test_char_tokenize():
    assert char_tokenize("ab c\n") == ["a", "b", " ", "c", "\n"]
    assert char_tokenize("AB", lower=True) == ["a", "b"]
    with pytest.raises(TypeError, match="expects a str"):
        char_tokenize(["a"])


# --------------------------------------------------------------------------- vocabulary
STREAM = "b a c a b d a e".split()  # counts: a 3, b 2, c/d/e 1; first appearance b, a, c, d, e


def test_build_vocab_count_order_ties_lexicographic_then_first():
    v = build_vocab(STREAM, unk_token=None)
    assert v.itos == ["a", "b", "c", "d", "e"]
    v_first = build_vocab("b a e c a b d a".split(), unk_token=None, tie_break="first")
    assert v_first.itos == ["a", "b", "e", "c", "d"]
    assert build_vocab(STREAM, unk_token=None, sort_by="token").itos == list("abcde")
    assert build_vocab(STREAM, unk_token=None, sort_by="first").itos == list("bacde")


def test_build_vocab_specials_unk_eos_max_size_min_count():
    v = build_vocab(STREAM, specials=("<pad>",), eos_token="<eos>")
    assert v.itos[:3] == ["<pad>", "<unk>", "<eos>"]
    assert v.unk_id == 1 and v.eos_id == 2
    assert build_vocab(STREAM, min_count=2).itos == ["<unk>", "a", "b"]
    small = build_vocab(STREAM, max_size=3)
    assert small.itos == ["<unk>", "a", "b"] and len(small) == 3
    # an <unk> that occurs in the data is ranked by its count but never cut off
    v2 = build_vocab("x x x y y <unk> z".split(), max_size=2)
    assert v2.itos == ["x", "<unk>"]
    v3 = build_vocab("x x <unk> <unk> <unk>".split())
    assert v3.itos == ["<unk>", "x"]
    # from a {token: count} mapping
    assert build_vocab({"q": 1, "p": 5}, unk_token=None).itos == ["p", "q"]


def test_build_vocab_errors():
    with pytest.raises(ValueError, match="max_size=1 is smaller than the 2 reserved"):
        build_vocab(STREAM, max_size=1, eos_token="<eos>")
    with pytest.raises(ValueError, match="sort_by must be"):
        build_vocab(STREAM, sort_by="size")
    with pytest.raises(ValueError, match="tie_break must be"):
        build_vocab(STREAM, tie_break="random")
    with pytest.raises(ValueError, match="min_count must be >= 1"):
        build_vocab(STREAM, min_count=0)
    with pytest.raises(TypeError, match="got a single string"):
        build_vocab("abc")
    with pytest.raises(ValueError, match="duplicate token 'a'"):
        Vocabulary(["a", "a"])
    with pytest.raises(ValueError, match="unk_token '<unk>' is not one of the 1 tokens"):
        Vocabulary(["a"], unk_token="<unk>")


def test_vocab_encode_decode_and_unknown_tokens():
    v = build_vocab(STREAM)
    ids = v.encode(["a", "zzz", "e"])
    assert ids.dtype == np.int64
    assert ids.tolist() == [v["a"], v.unk_id, v["e"]]
    assert v.decode(ids) == ["a", "<unk>", "e"]
    assert v.decode_text(v.encode(["a", "b"]), sep=" ") == "a b"
    assert v.token_to_id("nope") == v.unk_id
    assert "a" in v and "nope" not in v and len(v) == v.size == 6
    with pytest.raises(IndexError, match="token id 6 out of range for a vocabulary of size 6"):
        v.decode([0, 6])
    with pytest.raises(IndexError, match="token id -1 out of range"):
        v.id_to_token(-1)
    with pytest.raises(TypeError, match="got a string; split it first"):
        v.encode("a b")


def test_vocab_without_unk_raises_clear_error():
    v = build_vocab(STREAM, unk_token=None)
    with pytest.raises(
        UnknownTokenError,
        match=r"2 token\(s\) not in the vocabulary \(size 5\), e.g. 'x', 'y'.*unk_token",
    ):
        v.encode(["a", "x", "y", "x"])
    with pytest.raises(KeyError, match="has no unknown token"):
        v["x"]
    chars = build_char_vocab("abc")
    with pytest.raises(UnknownTokenError, match="'z'"):
        chars.encode_text("abz")


def test_char_vocab_sorted_and_vectorised_encode():
    text = "hello, world\n"
    v = build_char_vocab(text)
    assert v.itos == sorted(set(text))
    ids = v.encode_text(text)
    assert ids.tolist() == [v.stoi[c] for c in text]
    assert v.decode_text(ids) == text
    assert v.encode(text).tolist() == ids.tolist()  # a str goes to encode_text for char vocabs
    with_unk = build_vocab(list("abc"), unk_token="?", sort_by="token")
    assert with_unk.decode_text(with_unk.encode_text("axc")) == "a?c"
    assert build_char_vocab("").itos == []
    with pytest.raises(ValueError, match="needs a character vocabulary"):
        build_vocab(["ab"]).encode_text("ab")


def test_vocab_json_round_trip(tmp_path):
    v = build_vocab(STREAM, eos_token="<eos>")
    path = tmp_path / "vocab.json"
    v.save(path)
    back = Vocabulary.load(path)
    assert back == v and back.counts == v.counts and back.eos_token == "<eos>"
    assert "size=7" in repr(v)


# --------------------------------------------------------------------------- LM batching
def test_lm_batches_ptb_layout_and_state_continuity():
    ids = np.arange(23)
    batches = lm_batches(ids, batch_size=2, num_steps=3)
    # rows of 11 tokens: [0..10], [11..21]; (11 - 1) // 3 = 3 batches
    assert len(batches) == 3 == lm_num_batches(23, 2, 3)
    np.testing.assert_array_equal(batches.data, [np.arange(11), np.arange(11, 22)])
    got = list(batches)
    assert len(got) == 3
    x0, y0 = got[0]
    np.testing.assert_array_equal(x0, [[0, 1, 2], [11, 12, 13]])
    np.testing.assert_array_equal(y0, [[1, 2, 3], [12, 13, 14]])
    for (xa, _), (xb, _) in zip(got[:-1], got[1:], strict=True):
        np.testing.assert_array_equal(xb[:, 0], xa[:, -1] + 1)  # each row continues
    for x, y in got:
        assert x.shape == y.shape == (2, 3)
        np.testing.assert_array_equal(y, x + 1)
    assert len(list(batches)) == 3  # re-iterable: one epoch per iteration
    assert "batches=3" in repr(batches)


def test_lm_batches_errors():
    with pytest.raises(ValueError, match="epoch size is 0.*decrease batch_size or num_steps"):
        lm_batches(np.arange(10), batch_size=5, num_steps=2)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        lm_batches(np.arange(10), batch_size=0, num_steps=2)
    with pytest.raises(ValueError, match="1-D token id stream"):
        lm_batches(np.zeros((2, 5), int), 1, 2)
    with pytest.raises(ValueError, match="integer token ids"):
        lm_batches(np.zeros(10), 1, 2)
    assert lm_num_batches(3, 2, 5) == 0


def test_keras_batch_generator_like_tutorial():
    data = np.arange(10)
    gen = KerasBatchGenerator(data, num_steps=3, batch_size=2, vocabulary=10, skip_step=2)
    assert gen.steps_per_epoch == 10 // 6
    it = gen.generate()
    x, y = next(it)
    np.testing.assert_array_equal(x, [[0, 1, 2], [2, 3, 4]])
    assert y.shape == (2, 3, 10) and y.dtype == np.float32
    np.testing.assert_array_equal(y.argmax(-1), [[1, 2, 3], [3, 4, 5]])
    x2, _ = next(it)
    np.testing.assert_array_equal(x2, [[4, 5, 6], [6, 7, 8]])  # 6 + 3 = 9 < 10: still fits
    x3, _ = next(it)
    np.testing.assert_array_equal(x3[0], [0, 1, 2])  # 8 + 3 >= 10: wrapped to the start
    assert x is not x2  # fresh arrays every batch
    sparse = KerasBatchGenerator(data, 3, 2, one_hot=False)
    xs, ys = next(iter(sparse))
    np.testing.assert_array_equal(ys, xs + 1)
    assert sparse.vocabulary == 10 and sparse.skip_step == 3
    with pytest.raises(ValueError, match="need at least num_steps \\+ 1 = 4"):
        KerasBatchGenerator(np.arange(3), 3, 1)


def test_batch_generator_epochs_shuffle_and_one_hot():
    x = np.arange(10)[:, None]
    y = np.arange(10) % 3
    gen = batch_generator(x, y, batch_size=4, shuffle=True, seed=0, num_classes=3)
    seen = []
    for _ in range(3):  # one epoch: 4 + 4 + 2
        xb, yb = next(gen)
        assert yb.shape == (len(xb), 3)
        np.testing.assert_array_equal(yb.argmax(-1), xb[:, 0] % 3)
        seen.extend(xb[:, 0].tolist())
    assert sorted(seen) == list(range(10))
    again = batch_generator(x, y, batch_size=4, shuffle=True, seed=0, num_classes=3)
    np.testing.assert_array_equal(next(again)[0], batch_generator(x, y, 4, seed=0).__next__()[0])
    ordered = batch_generator([x, x * 2], y, batch_size=5, shuffle=False, drop_remainder=True)
    (a, b), yb = next(ordered)
    np.testing.assert_array_equal(b, a * 2)
    np.testing.assert_array_equal(next(ordered)[0][0][:, 0], np.arange(5, 10))
    np.testing.assert_array_equal(next(ordered)[0][0][:, 0], np.arange(5))  # wraps round
    with pytest.raises(ValueError, match=r"x\[0\] has 3 samples but y has 10"):
        next(batch_generator(np.zeros(3), y))


# --------------------------------------------------------------------------- char windows
def test_char_windows_next_and_shifted_targets():
    text = "abcdefg"
    x, y = char_windows(text, seq_length=3, step=2)
    v = build_char_vocab(text)
    # Keras: range(0, len(text) - maxlen, step) -> starts 0, 2 (4 + 3 = 7 has no next char)
    assert x.shape == (2, 3) and count_char_windows(7, 3, 2) == 2
    assert [v.decode_text(r) for r in x] == ["abc", "cde"]
    assert v.decode_text(y) == "df"
    xs, ys = char_windows(text, seq_length=3, step=1, target="shifted")
    assert xs.shape == ys.shape == (4, 3)
    assert v.decode_text(ys[0]) == "bcd" and v.decode_text(xs[-1]) == "def"
    np.testing.assert_array_equal(xs[:, 1:], ys[:, :-1])
    xo, yo = char_windows(np.array([0, 1, 2, 0, 1]), seq_length=1, one_hot=True, num_classes=4)
    assert xo.shape == (4, 1, 4) and yo.shape == (4, 4)  # the length-1 axis is kept
    np.testing.assert_array_equal(xo.argmax(-1)[:, 0], [0, 1, 2, 0])
    assert one_hot_encode(np.array([[1]]), 2).shape == (1, 1, 2)


def test_char_windows_errors():
    with pytest.raises(ValueError, match="too short for windows of seq_length=5"):
        char_windows("abc", seq_length=5)
    with pytest.raises(ValueError, match="step must be >= 1"):
        char_windows("abcdef", 2, step=0)
    with pytest.raises(ValueError, match="target must be 'next' or 'shifted'"):
        char_windows("abcdef", 2, target="all")
    with pytest.raises(ValueError, match="1-D integer id array"):
        char_windows(np.zeros((2, 2), int), 1)


# --------------------------------------------------------------------------- addition
def test_addition_strings_format_and_correctness():
    q, a = addition_strings(300, digits=3, seed=1)
    assert len(q) == len(a) == 300
    assert all(len(s) == 7 for s in q) and all(len(s) == 4 for s in a)
    keys = set()
    for qi, ai in zip(q, a, strict=True):
        left, right = qi.strip().split("+")
        assert int(left) + int(right) == int(ai)
        assert int(left) < 1000 and int(right) < 1000
        keys.add(tuple(sorted((int(left), int(right)))))
    assert len(keys) == 300  # unique up to swapping
    assert addition_strings(300, digits=3, seed=1) == (q, a)  # deterministic
    rq, ra = addition_strings(300, digits=3, seed=1, reverse=True)
    assert rq == [s[::-1] for s in q] and ra == a


def test_addition_padding_example_and_dataset():
    q, a = addition_strings(3, digits=1, seed=0)
    assert all(len(s) == 3 and len(t) == 2 for s, t in zip(q, a, strict=True))
    x, y, chars = addition_dataset(50, digits=3, seed=2)
    assert chars == ADDITION_CHARS == "0123456789+ "
    assert x.shape == (50, 7, 12) and y.shape == (50, 4, 12) and x.dtype == np.float32
    qs, ans = addition_strings(50, digits=3, seed=2)
    assert decode_addition(x) == qs and decode_addition(y) == ans
    assert decode_addition(np.array([[1, 2, 3, 10, 4, 5, 11]])) == ["123+45 "]
    with pytest.raises(ValueError, match="n_samples must be between 1 and 55"):
        addition_strings(56, digits=1)
