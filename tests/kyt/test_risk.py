"""The address-risk model: it learns a pattern, is calibrated and explained, and its file is checked."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from graph.behaviour import NAMES
from kyt import risk

NOW = datetime(2026, 11, 25, tzinfo=timezone.utc)


def test_it_learns_the_pattern_and_reports_held_out_figures(trained):
    model, graph, labels, _ = trained
    held_out = model.metrics["held_out"]
    assert held_out["rows"] == 68 and held_out["positives"] == 34
    assert held_out["precision"] >= 0.9 and held_out["recall"] >= 0.9 and held_out["roc_auc"] >= 0.95
    assert model.metrics["cross_validated"]["rows"] == 132 + model.training["unlisted_normal"]["train"]
    assert model.features == NAMES and model.version.startswith("risk-")


def test_probabilities_are_calibrated_probabilities_and_rank_risky_above_normal(trained):
    model, graph, labels, _ = trained
    test = labels.part("test")
    p = risk.probabilities(model, graph.features(test))
    assert ((p >= 0) & (p <= 1)).all()
    assert p[test.label == 1].mean() > 0.8 > 0.2 > p[test.label == 0].mean()


def test_explanations_name_features_that_raise_the_probability(trained):
    model, graph, labels, _ = trained
    risky = labels.part("test")
    x = graph.features(risky)[risky.label == 1][:5]
    reasons = risk.explain(model, x)
    assert len(reasons) == 5 and all(0 < len(r) <= risk.TOP for r in reasons)
    assert all(name in NAMES and weight > 0 for r in reasons for name, weight in r)
    flat = x.copy()  # an address at every feature's median: no feature raises it above itself
    flat[:] = model.medians
    assert risk.explain(model, flat) == [[]] * len(flat)


def test_metrics_count_exactly():
    got = risk.metrics(np.array([1, 1, 0, 0, 1]), np.array([0.9, 0.4, 0.6, 0.1, 0.5]), 0.5)
    assert (got["precision"], got["recall"], got["accuracy"]) == (2 / 3, 2 / 3, 3 / 5)
    assert got["f1"] == pytest.approx(2 / 3) and got["roc_auc"] == pytest.approx(4 / 6)  # 4 of 6 pairs in order


def test_the_model_file_round_trips_and_foreign_files_are_refused(trained, tmp_path):
    model, graph, labels, path = trained
    again = risk.load(path)
    x = graph.features(labels)
    assert (risk.probabilities(again, x) == risk.probabilities(model, x)).all()
    assert again.describe() == model.describe()
    assert path.with_name(path.name + ".json").exists()
    foreign = tmp_path / "foreign.joblib"
    foreign.write_bytes(b"not a model")
    with pytest.raises(risk.ModelError, match="not a model file"):
        risk.load(foreign)
    with pytest.raises(risk.ModelError, match="no such model file"):
        risk.load(tmp_path / "missing.joblib")


def test_training_needs_both_classes_and_a_sane_threshold():
    x = np.zeros((20, len(NAMES)))
    with pytest.raises(risk.ModelError, match="at least 10 risky and 10 normal"):
        risk.train(x, np.ones(20), NAMES, now=NOW)
    with pytest.raises(risk.ModelError, match="0 \\(normal\\) or 1"):
        risk.train(x, np.full(20, 2), NAMES, now=NOW)
    with pytest.raises(risk.ModelError, match="between 0 and 1"):
        risk.train(x, np.r_[np.ones(10), np.zeros(10)], NAMES, threshold=1.5, now=NOW)


def test_row_weights_reach_the_trees_and_the_calibration_and_change_the_version():
    # where the feature is 1, ten risky and ten normal rows: unweighted, an even chance there
    x = np.zeros((50, len(NAMES)))
    x[:20, 0] = 1.0
    y = np.r_[np.ones(10), np.zeros(40)].astype(int)
    plain = risk.train(x, y, NAMES, now=NOW)
    weighted = risk.train(x, y, NAMES, now=NOW, weight=np.r_[np.full(10, 3.0), np.ones(40)])
    at_one = x[:1]
    assert risk.probabilities(plain, at_one)[0] == pytest.approx(0.5, abs=0.1)
    assert risk.probabilities(weighted, at_one)[0] == pytest.approx(0.75, abs=0.1)  # 30 risky against 10
    assert plain.version != weighted.version
