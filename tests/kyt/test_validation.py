"""Honest validation: groups of addresses sharing counterparties, folds in time, the artefact check, the review
share's threshold."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
import pytest

from graph.index import InboundIndex
from graph.model import Labels
from kyt import learning, risk, validation
from tests.factories import addr, transfers

NOW = datetime(2026, 12, 7, tzinfo=timezone.utc)


def labels_of(who: list[int]) -> Labels:
    return Labels(pa.array([addr(w) for w in who], pa.string()), np.zeros(len(who), dtype=np.int64),
                  pa.nulls(len(who), pa.string()))


def test_addresses_that_share_a_counterparty_share_a_group_but_not_through_a_hub():
    # 1 and 2 both pay 10; 3 and 4 both receive from 11; 5, 6 and 7 all pay the hub 12; 8 is alone
    t = transfers([(1, 10, 1, 0, 5, 1), (2, 10, 1, 1, 5, 2), (11, 3, 1, 2, 5, 3), (11, 4, 1, 3, 5, 4),
                   (5, 12, 2, 0, 5, 5), (6, 12, 2, 1, 5, 6), (7, 12, 2, 2, 5, 7), (8, 13, 2, 3, 5, 8)])
    group = validation.groups(InboundIndex.build(t), labels_of([1, 2, 3, 4, 5, 6, 7, 8, 99]))
    assert group[0] == group[1] and group[2] == group[3] and group[0] != group[2]
    assert len({int(g) for g in group[4:]}) == 5  # the hub (3 labelled) joins none; 99 has no transfer at all


def test_the_time_fold_keeps_each_class_in_time_order():
    first = np.array([5, 1, 9, 3, 7, 2, 8, 4, 6, 0])
    y = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    [(train, test)] = validation.time_fold(first, y)
    for label in (0, 1):
        mine_train, mine_test = train[y[train] == label], test[y[test] == label]
        assert first[mine_train].max() <= first[mine_test].min()
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(10))


def test_the_review_threshold_sends_that_share_to_review():
    scores = np.linspace(0, 1, 1001)
    threshold = validation.review_threshold(scores, 0.05)
    assert (scores >= threshold).mean() == pytest.approx(0.05, abs=0.002)
    steps = np.repeat([0.1, 0.5, 0.9], [700, 250, 50])  # calibrated probabilities come in steps
    assert validation.review_threshold(steps, 0.1) == 0.9 and validation.review_threshold(steps, 0.3) == 0.5
    with pytest.raises(risk.ModelError, match="between 0 and 1"):
        validation.review_threshold(scores, 1.5)


def test_training_validates_on_grouped_and_time_folds_and_sets_the_threshold_for_a_review_share(world):
    graph = learning.load_graph(world[0])
    labels = learning.read_labels(world[1])
    with pytest.raises(risk.ModelError, match="no threshold sends at most 10.0%"):
        learning.train(graph, labels, now=NOW, max_review_share=0.1, validate=False)  # a third share the top
    model, _ = learning.train(graph, labels, now=NOW, max_review_share=0.4)
    checks = model.metrics["validation"]
    assert set(checks) >= {"grouped_model", "grouped_artefact_only", "time_model", "time_artefact_only", "groups"}
    for name in ("grouped_model", "time_model"):
        low, high = checks[name]["roc_auc_95"]
        assert low <= checks[name]["roc_auc"] <= high
    assert model.training["max_review_share"] == 0.4
    assert sum(b["rows"] for b in checks["time_calibration"]) == checks["time_model"]["rows"]
    scored = risk.probabilities(model, graph.features(learning.population(graph, 0), model.features))
    assert 0 < (scored >= model.threshold).mean() <= 0.4
    assert model.features == learning.feature_sets.SETS["behaviour"]
    assert "age_days" not in model.features and "in_count" not in model.features


def test_calibration_bins_compare_the_mean_probability_with_the_observed_share():
    y = np.array([0, 0, 1, 1, 1, 0])
    p = np.array([0.05, 0.15, 0.5, 0.95, 0.91, 0.92])
    bins = validation.calibration(y, p)
    assert [(b["from"], b["rows"]) for b in bins] == [(0.0, 2), (0.4, 1), (0.9, 3)]
    assert bins[0]["predicted"] == 0.1 and bins[0]["observed"] == 0.0
    assert bins[2]["predicted"] == pytest.approx(0.9267, abs=1e-4) and bins[2]["observed"] == pytest.approx(2 / 3, abs=1e-4)
    assert bins[-1]["to"] == 1.0
