import json

from rnnlab.experiments import run_experiment


def test_resume_continues_exactly_in_the_same_process(tmp_path):
    """2 epochs, then --resume to 4 epochs, equals 4 epochs in one go (optimizer slots, shuffling
    and dropout counters restored even though the rebuilt layers get new names)."""
    run_experiment("sine", {"epochs": 2}, smoke=True, out=tmp_path / "a", verbose=0)
    resumed = run_experiment("sine", {"epochs": 4}, smoke=True, out=tmp_path / "a", verbose=0,
                             resume=True)
    straight = run_experiment("sine", {"epochs": 4}, smoke=True, out=tmp_path / "b", verbose=0)
    assert resumed.metrics == straight.metrics
    history = (tmp_path / "a" / "history.csv").read_text().splitlines()
    assert len(history) == 1 + 4
    assert json.loads((tmp_path / "a" / "metrics.json").read_text()) == straight.metrics
