"""The sweep's trial plan: products, names, random draws and errors (no Ray)."""

from __future__ import annotations

import pytest

from rnnlab.sweep import Plan, Space, parse_grid, parse_seeds, parse_space


def test_grid_times_seeds_in_order_with_stable_ids() -> None:
    plan = Plan("sine", grid={"hidden": [8, 16], "lr": [0.01]}, seeds=[0, 1],
                fixed={"epochs": 2}, smoke=True)
    trials = plan.trials()
    assert [t.swept for t in trials] == [
        {"hidden": 8, "lr": 0.01, "seed": 0}, {"hidden": 8, "lr": 0.01, "seed": 1},
        {"hidden": 16, "lr": 0.01, "seed": 0}, {"hidden": 16, "lr": 0.01, "seed": 1}]
    assert all(t.overrides["epochs"] == 2 for t in trials)
    assert [t.id for t in trials] == [t.id for t in plan.trials()]  # the same command, same ids
    assert len({t.id for t in trials}) == 4
    assert trials[0].id.startswith("hidden-8_lr-0.01_seed-0-")
    other = Plan("sine", grid={"hidden": [8, 16], "lr": [0.01]}, seeds=[0, 1],
                 fixed={"epochs": 3}, smoke=True).trials()
    assert other[0].id != trials[0].id  # a different fixed setting is a different trial
    assert plan.swept_names() == ["hidden", "lr", "seed"]


def test_random_space_is_repeatable_and_in_range() -> None:
    space = parse_space(["lr=1e-4:1e-1:log", "hidden=4:32"], {"lr": 1e-3, "hidden": 100})
    assert space["lr"] == Space(1e-4, 1e-1, log=True, integer=False)
    assert space["hidden"].integer
    plan = Plan("sine", space=space, samples=20, seeds=[0], search_seed=3)
    trials = plan.trials()
    assert len(trials) == 20
    lrs = [t.swept["lr"] for t in trials]
    assert all(1e-4 <= v <= 1e-1 for v in lrs)
    assert all(isinstance(t.swept["hidden"], int) and 4 <= t.swept["hidden"] <= 32
               for t in trials)
    assert min(lrs) < 1e-3 < max(lrs)  # log-uniform reaches the low decade
    assert [t.swept for t in Plan("sine", space=space, samples=20, seeds=[0],
                                  search_seed=3).trials()] == [t.swept for t in trials]
    assert [t.swept for t in Plan("sine", space=space, samples=20, seeds=[0],
                                  search_seed=4).trials()] != [t.swept for t in trials]


def test_parsing_and_clear_errors() -> None:
    assert parse_grid(["lr=1e-3,0.01", "cell=lstm,gru"]) == {"lr": [0.001, 0.01],
                                                             "cell": ["lstm", "gru"]}
    assert parse_seeds("0,1,2") == [0, 1, 2]
    assert parse_seeds(None) is None
    with pytest.raises(ValueError, match="NAME=VALUES"):
        parse_grid(["lr"])
    with pytest.raises(ValueError, match="twice"):
        parse_grid(["lr=1", "lr=2"])
    with pytest.raises(ValueError, match="whole numbers"):
        parse_seeds("a,b")
    with pytest.raises(ValueError, match="LO:HI"):
        parse_space(["lr=1e-3"], {})
    with pytest.raises(ValueError, match="LO < HI"):
        parse_space(["lr=1:0.5"], {})
    with pytest.raises(ValueError, match="LO > 0"):
        parse_space(["lr=0:1:log"], {})
    with pytest.raises(ValueError, match="more than once"):
        Plan("sine", grid={"hidden": [8]}, fixed={"hidden": 4}).trials()
    with pytest.raises(ValueError, match="more than once"):
        Plan("sine", grid={"seed": [1]}, seeds=[0]).trials()
    with pytest.raises(ValueError, match="same trial twice"):
        Plan("sine", grid={"hidden": [8, 8]}).trials()
