"""The T-EDGE adapter: integer ids become addresses, aggregated edges become transfers the readers accept."""

from __future__ import annotations

import gzip
import pytest

from graph import readers
from kyt import tedge
from kyt.errors import KytError


def write(folder, name, text):
    with gzip.open(folder / name, "wt") as handle:
        handle.write(text)


def test_edges_become_one_transfer_per_transaction_and_labels_keep_the_split(tmp_path):
    write(tmp_path, tedge.EDGES, ",from,to,amount,n_transactions,timestamp\n0,1,2,3.0,3,1500000000\n"
                                 "1,2,3,0.5,1,1400000000\n2,4,2,1.25,1,1500000000\n")
    write(tmp_path, tedge.NODES, ",id,label,has_label,is_train,is_test\n0,2,1.0,True,True,False\n"
                                 "1,3,0.0,True,False,True\n2,1,,False,False,False\n")
    transfers_path, labels_path, counts = tedge.convert(tmp_path, tmp_path / "out")
    assert counts == {"transfers": 5, "edges": 3, "labelled": 2, "phishing": 1, "train": 1, "test": 1}
    t = readers.read_transfers(transfers_path)  # the engine's own checks accept it
    assert t.block.tolist() == [1400000000] + [1500000000] * 4  # in time order
    assert t.position.tolist() == [0, 0, 1, 2, 3]
    assert t.from_address.to_pylist()[0] == tedge.address(2) == "0x" + "0" * 39 + "2"
    assert sorted(t.usd_micro.tolist()) == [500_000, 1_000_000, 1_000_000, 1_000_000, 1_250_000]
    labels = readers.read_labels(labels_path)
    assert labels.address.to_pylist() == [tedge.address(2), tedge.address(3)]
    assert labels.label.tolist() == [1, 0] and labels.split.to_pylist() == ["train", "test"]


def test_a_folder_without_the_files_is_refused(tmp_path):
    with pytest.raises(KytError, match="not the T-EDGE folder"):
        tedge.convert(tmp_path, tmp_path / "out")
