import numpy as np

from rnnlab.cells import LSTMCell
from rnnlab.gradcheck import GradcheckReport, check_cell


def test_report_names_each_parameter_its_worst_error_and_where() -> None:
    report = check_cell(LSTMCell(3), input_dim=2)
    assert report.max_error < 1e-6
    text = str(report)
    for name in ("weight_ih", "weight_hh", "bias_ih", "input0", "initial_state0"):
        assert any(name in line for line in text.splitlines()[2:]), name
    assert "worst:" in text and "at index" in text
    m = report.where["cell.weight_hh"]
    assert len(m.index) == 2


def test_report_points_at_a_planted_error() -> None:
    report = GradcheckReport()
    analytic = np.zeros((3, 4))
    numeric = np.zeros((3, 4))
    analytic[1, 2], numeric[1, 2] = 1.0, 0.5
    report.add("cell.weight_hh", analytic, numeric)
    report.add("cell.bias_ih", np.ones(4), np.ones(4))
    assert report.worst == "cell.weight_hh"
    assert report.where["cell.weight_hh"].index == (1, 2)
    assert report.errors["cell.weight_hh"] == 0.5
    assert "(1, 2)" in str(report)
