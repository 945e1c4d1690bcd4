import numpy as np
import pytest

from rnnlab.cli import main
from rnnlab.experiments import resolve_config
from rnnlab.experiments.charlm import build_model, resolve
from rnnlab.experiments.sampling import generate_text, next_char_distribution
from rnnlab.layers import Dense
from rnnlab.models import Sequential, load_model

CHARS = list("\n :ABEMOR" + "abcdefghijklmnopqrstuvwxyz")


@pytest.fixture(scope="module")
def char_model(tmp_path_factory):
    c = resolve(resolve_config("charlm", {"hidden": 16, "layers": 2, "batch_size": 4,
                                          "seq_length": 8}))
    model = build_model(c, len(CHARS))
    model.metadata = {"kind": "charlm", "experiment": "charlm", "chars": CHARS,
                      "input": "onehot", "output": "logits"}
    path = tmp_path_factory.mktemp("gen") / "model.rnnlab"
    model.save(path)
    return path


def test_generate_prints_prime_and_sample(char_model, capsys):
    rc = main(["generate", str(char_model), "--prime", "ROMEO:", "--length", "30",
               "--temperature", "0.8"])
    assert rc == 0
    out = capsys.readouterr().out
    text = out[:-1]   # print adds a newline
    assert text.startswith("ROMEO:") and len(text) == 36
    assert set(text) <= set(CHARS)


def test_generate_is_seeded_and_top_k_1_is_greedy(char_model, capsys):
    args = ["generate", str(char_model), "--prime", "ab", "--length", "25"]
    outs = []
    for extra in (["--seed", "1"], ["--seed", "1"], ["--seed", "2"]):
        assert main(args + extra) == 0
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1] and outs[0] != outs[2]
    greedy = []
    for seed in ("1", "2"):
        assert main(args + ["--top-k", "1", "--seed", seed]) == 0
        greedy.append(capsys.readouterr().out)
    assert greedy[0] == greedy[1]


def test_stateful_generation_equals_rerunning_the_whole_text(char_model):
    model = load_model(char_model)
    fast = generate_text(model, "ROMEO:", 20, 1.0, None, seed=3)
    plain = load_model(char_model)
    for layer in plain.layers:
        if hasattr(layer, "stateful"):
            layer.stateful = False
    slow = generate_text(plain, "ROMEO:", 20, 1.0, None, seed=3)
    assert fast == slow


def test_generate_refuses_a_model_of_another_kind(tmp_path, capsys):
    model = Sequential([Dense(3, input_shape=(4,))])
    model.compile(optimizer="sgd", loss="mse")
    model.metadata = {"kind": "wordlm", "experiment": "ptb"}
    path = tmp_path / "ptb.rnnlab"
    model.save(path)
    rc = main(["generate", str(path), "--prime", "a", "--length", "5"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnlab: error: ")
    assert ("is a wordlm model; generate needs a character language model (train one with: "
            "rnnlab run charlm)") in err


def test_generate_rejects_unknown_prime_characters(char_model, capsys):
    rc = main(["generate", str(char_model), "--prime", "ROMEO: 123 Zz!", "--length", "5"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "5 character(s) (5 distinct) that are not in the model's vocabulary of 35" in err
    assert "'1', '2', '3', 'Z', '!'" in err


@pytest.mark.parametrize("args, match", [
    (["--temperature", "0"], "--temperature must be a positive number"),
    (["--length", "-1"], "--length must be a non-negative integer"),
    (["--top-k", "0"], "--top-k must be a positive integer"),
    (["--prime", ""], "--prime must be a non-empty text"),
])
def test_generate_validates_its_arguments(char_model, capsys, args, match):
    rc = main(["generate", str(char_model), "--prime", "ab", *args])
    assert rc == 2
    assert match in capsys.readouterr().err


def test_temperature_and_top_k_shape_the_distribution():
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    p1 = next_char_distribution(logits, 1.0, None, logits=True)
    np.testing.assert_allclose(p1, [0.5, 0.3, 0.15, 0.05])
    cold = next_char_distribution(logits, 0.5, None, logits=True)
    assert cold[0] > p1[0]
    top2 = next_char_distribution(logits, 1.0, 2, logits=True)
    np.testing.assert_allclose(top2, [0.625, 0.375, 0.0, 0.0])
    probs = next_char_distribution(np.array([0.5, 0.3, 0.15, 0.05]), 1.0, None, logits=False)
    np.testing.assert_allclose(probs, p1)
