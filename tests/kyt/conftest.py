"""Shared by the learning tests: one small labelled world, and one model trained on it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    """(transfers.csv, labels.csv) of the labelled world in tests/kyt/learning_world.py."""
    from tests.kyt.learning_world import write_world

    return write_world(tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="session")
def trained(world, tmp_path_factory):
    """(model, graph, labels, model file) trained once on the world's train split."""
    from kyt import learning, risk

    graph = learning.load_graph(world[0])
    labels = learning.read_labels(world[1])
    model, _ = learning.train(graph, labels, now=datetime(2026, 11, 25, tzinfo=timezone.utc))
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    risk.save(model, path)
    return model, graph, labels, path
