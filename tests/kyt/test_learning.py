"""Training from files: the labels' split is used, or a stratified one is made; inputs are checked."""

from __future__ import annotations

import csv

import pytest

from kyt import learning
from kyt.errors import InputsRejected
from tests.factories import addr
from tests.kyt.learning_world import HEADER, write_world


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


def _busy_world(folder):
    """Addresses 1..5 with 12, 10, 9, 15 and 11 transfers, each with its own partners; 4 is labelled, 5 flagged."""
    rows, n = [], 0
    for owner, many in ((1, 12), (2, 10), (3, 9), (4, 15), (5, 11)):
        for k in range(many):
            n += 1
            other = addr(1000 + n)
            src, dst = (other, addr(owner)) if k % 2 else (addr(owner), other)
            rows.append([f"0x{n:064x}", n, 0, 1_700_000_000 + n * 60, src, dst, "ETH", "1", "2000"])
    transfers = folder / "transfers.csv"
    with transfers.open("w", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    flagged = folder / "flagged.csv"
    flagged.write_text(f"address,category,source,listed_at,delisted_at\n{addr(5)},scam,test,,\n")
    labels = folder / "labels.csv"
    labels.write_text(f"address,label\n{addr(4)},1\n")
    return learning.load_graph(transfers, flagged=flagged), learning.read_labels(labels)


def test_busy_unlisted_addresses_are_the_ones_neither_labelled_nor_flagged(tmp_path):
    graph, labels = _busy_world(tmp_path)
    chosen = learning.unlisted(graph, labels, least=10, seed=0)
    assert sorted(chosen.address.to_pylist()) == [addr(1), addr(2)]  # 3 is too quiet, 4 labelled, 5 flagged
    assert chosen.label.tolist() == [0, 0] and set(chosen.split.to_pylist()) <= {"train", "test"}
    assert sorted(learning.unlisted(graph, labels, least=9, seed=0).address.to_pylist()) == [addr(1), addr(2), addr(3)]
    assert len(learning.unlisted(graph, labels, least=0, seed=0)) == 0  # 0: none


def test_a_stratum_of_the_unlisted_is_held_out_the_same_way_for_a_seed(world):
    graph, labels = learning.load_graph(world[0]), learning.read_labels(world[1])
    first, again = (learning.unlisted(graph, labels, least=5, seed=3) for _ in range(2))
    assert first.address.to_pylist() == again.address.to_pylist() and first.split.to_pylist() == again.split.to_pylist()
    held = first.split.to_pylist().count("test")
    assert len(first) > 20 and 0 < held < len(first) / 2
    assert not set(first.address.to_pylist()) & set(labels.address.to_pylist())


def test_training_counts_the_unlisted_and_measures_them_held_out(trained):
    model, *_ = trained
    used = model.training["unlisted_normal"]
    assert used["least_transfers"] == learning.UNLISTED and used["train"] > 0
    assert model.metrics["cross_validated"]["rows"] == 132 + used["train"]
    labelled_normal = 132 // 2  # the world's train split: 66 of each class
    assert used["weight"] == pytest.approx(labelled_normal / used["train"])  # together, as much as the labelled
    held = model.metrics["held_out_unlisted"]
    assert held["rows"] == used["held_out"] and held["specificity"] == 1 - held["reviewed"] / held["rows"]


def test_only_transfers_before_the_as_of_time_make_an_address_busy(tmp_path):
    graph, labels = _busy_world(tmp_path)
    graph.as_of = (1_700_000_000 + 20 * 60) * 1_000_000  # address 1's twelve transfers and 2's first seven
    assert learning.unlisted(graph, labels, least=8, seed=0).address.to_pylist() == [addr(1)]
    assert sorted(learning.unlisted(graph, labels, least=7, seed=0).address.to_pylist()) == [addr(1), addr(2)]
