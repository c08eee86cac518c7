"""Training from files: the labels' split is used, or a stratified one is made; inputs are checked."""

from __future__ import annotations

import pytest

from kyt import learning
from kyt.errors import InputsRejected
from tests.kyt.learning_world import write_world


def test_without_a_split_a_stratified_share_is_held_out(tmp_path):
    _, labels_path = write_world(tmp_path, per_class=30, split=False)
    labels = learning.read_labels(labels_path)
    training, held_out, how = learning.split_for_training(labels, seed=0)
    assert how == "a stratified 30% held out"
    assert (len(training), len(held_out)) == (42, 18)
    assert held_out.label.sum() == 9 and not set(held_out.address.to_pylist()) & set(training.address.to_pylist())


def test_the_labels_split_is_used_when_there_is_one(world):
    labels = learning.read_labels(world[1])
    training, held_out, how = learning.split_for_training(labels, seed=0)
    assert how == "the labels' test split" and (len(training), len(held_out)) == (132, 68)


def test_rows_marked_test_are_never_trained_on_even_without_a_train_split(tmp_path):
    _, labels_path = write_world(tmp_path, per_class=30)
    text = labels_path.read_text().replace(",train", ",")  # only the test rows are marked
    labels_path.write_text(text)
    labels = learning.read_labels(labels_path)
    training, held_out, how = learning.split_for_training(labels, seed=0)
    assert how == "the labels' test split"
    assert set(held_out.address.to_pylist()) == {a for a, s in zip(labels.address.to_pylist(),
                                                                   labels.split.to_pylist()) if s == "test"}
    assert not set(held_out.address.to_pylist()) & set(training.address.to_pylist())
    assert len(training) + len(held_out) == len(labels)


def test_bad_labels_are_reported_by_line(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("address,label\n0x" + "1" * 40 + ",1\n0x12,0\n0x" + "2" * 40 + ",7\n0x" + "1" * 40 + ",0\n")
    with pytest.raises(InputsRejected) as caught:
        learning.read_labels(path)
    text = str(caught.value)
    assert f"{path}:3: address '0x12' is not an address" in text
    assert f"{path}:4: label 7 is out of range (0 to 1)" in text
    assert f"{path}:5: duplicate address" in text
