"""Train and evaluate the address-risk model from files: transfers, labels, and the lists behind the features."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from graph import readers
from graph.errors import InputError
from graph.features import marked, transfers_before
from graph.index import InboundIndex
from graph.model import FlaggedWallets, Labels, Services
from kyt import feature_sets, risk, validation
from kyt.batch import read_inputs
from kyt.errors import InputsRejected

HOLD_OUT = 0.3
"""The share of labelled addresses held out for evaluation when the labels name no split."""


@dataclass
class Graph:
    """The transfers indexed once, with the lists the features read, and the as-of time (microseconds)."""

    index: InboundIndex
    as_of: int
    flagged: FlaggedWallets | None
    services: Services | None

    def features(self, labels: Labels, names: tuple[str, ...] = feature_sets.SETS[feature_sets.DEFAULT]) -> np.ndarray:
        return feature_sets.compute(names, self.index, labels.address, as_of=self.as_of, services=self.services,
                                    flagged=self.flagged)


def load_graph(transfers: Path, *, flagged: Path | None = None, services: Path | None = None,
               as_of: int | None = None) -> Graph:
    """Read and index the transfers (and lists); the as-of time defaults to just after the last transfer."""
    loaded = read_inputs([("transfers", transfers, readers.read_transfers), ("flagged", flagged, readers.read_flagged),
                          ("services", services, readers.read_services)])
    table = loaded["transfers"]
    if as_of is None:
        as_of = int(table.timestamp.max()) + 1 if len(table) else 0
    return Graph(InboundIndex.build(table), as_of, loaded.get("flagged"), loaded.get("services"))


def read_labels(path: Path) -> Labels:
    """Labels, every bad line reported."""
    try:
        return readers.read_labels(path)
    except InputError as error:
        raise InputsRejected([error]) from None


def split_for_training(labels: Labels, seed: int) -> tuple[Labels, Labels | None, str]:
    """(training rows, held-out rows, how they were chosen).

    Rows marked `test` are held out and never trained on; every other row trains. Without a
    `test` split, a stratified share of all rows is held out.
    """
    train, test, how = _split_rows(labels, seed)
    return labels.take(train), None if test is None else labels.take(test), how


def _split_rows(labels: Labels, seed: int) -> tuple[np.ndarray, np.ndarray | None, str]:
    """`split_for_training` as row positions."""
    if "test" in labels.splits():
        test = np.asarray([s == "test" for s in labels.split.to_pylist()], dtype=bool)
        return np.flatnonzero(~test), np.flatnonzero(test), "the labels' test split"
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(labels))
    if len(labels) < 20:
        return rows, None, "all labels (too few to hold any out)"
    train, test = train_test_split(rows, test_size=HOLD_OUT, stratify=labels.label, random_state=seed)
    return np.sort(train), np.sort(test), f"a stratified {HOLD_OUT:.0%} held out"


POPULATION = 20_000
"""At most this many of the graph's addresses (with two transfers or more) set a review-share threshold."""
UNLISTED = 10
"""Addresses with at least this many transfers, neither labelled nor flagged, train as normal examples."""


def _transfer_counts(graph: Graph) -> np.ndarray:
    """Each indexed address's number of transfers before the graph's as-of time, sent and received."""
    sender, receiver, *_ = transfers_before(graph.index, graph.as_of)
    n = len(graph.index.addresses)
    return np.bincount(sender, minlength=n)[:n] + np.bincount(receiver, minlength=n)[:n]


def _sample(rows: np.ndarray, seed: int) -> np.ndarray:
    if len(rows) > POPULATION:
        rows = np.sort(np.random.default_rng(seed).choice(rows, POPULATION, replace=False))
    return rows


def population(graph: Graph, seed: int) -> Labels:
    """A sample of the graph's addresses with at least two transfers: those a review share is a share of."""
    busy = _sample(np.flatnonzero(_transfer_counts(graph) >= 2), seed)
    chosen = graph.index.addresses.take(busy)
    return Labels(chosen, np.zeros(len(busy), dtype=np.int64), pa.nulls(len(busy), pa.string()))


def unlisted(graph: Graph, labels: Labels, *, least: int, seed: int) -> Labels:
    """Normal examples seen as a platform sees its counterparties, partly: the graph's addresses with at least
    `least` transfers that no label names and no flagged list holds (a sample of at most POPULATION), a random
    30% of them marked `test` (held out) and the rest `train`.

    A crawl sees its labelled addresses whole but the busy addresses around them only through the crawl's
    edges; without such examples a model learns that any partly seen busy address is risky.
    """
    if least <= 0:
        return Labels(pa.array([], pa.string()), np.zeros(0, dtype=np.int64), pa.array([], pa.string()))
    taken = marked(graph.index, labels.address) | marked(
        graph.index, graph.flagged.address if graph.flagged is not None else None)
    rows = _sample(np.flatnonzero((_transfer_counts(graph) >= least) & ~taken), seed)
    held = np.random.default_rng(seed).random(len(rows)) < HOLD_OUT
    return Labels(graph.index.addresses.take(rows), np.zeros(len(rows), dtype=np.int64),
                  pa.array(np.where(held, "test", "train").tolist(), pa.string()))


def _joined(first: Labels, second: Labels) -> Labels:
    """The rows of both."""
    def both(a: pa.Array, b: pa.Array) -> pa.Array:
        return pa.chunked_array([a.cast(pa.string()), b.cast(pa.string())]).combine_chunks()

    return Labels(both(first.address, second.address), np.concatenate([first.label, second.label]).astype(np.int64),
                  both(first.split, second.split))


def _weights(labelled: Labels, unlisted_rows: int) -> tuple[np.ndarray | None, float]:
    """Row weights for the labelled training rows followed by the unlisted ones, and the weight of each unlisted
    row: together the unlisted rows weigh as much as the labelled normal ones, so that the many partly seen busy
    addresses do not outweigh the addresses someone labelled (None and 1.0 when there is nothing to balance).

    >>> _weights(Labels(pa.array(["a", "b", "c"]), np.array([0, 0, 1]), pa.array(["", "", ""])), 4)[1]
    0.5
    """
    normal = int((labelled.label == 0).sum())
    if not unlisted_rows or not normal:
        return None, 1.0
    each = normal / unlisted_rows
    return np.concatenate([np.ones(len(labelled)), np.full(unlisted_rows, each)]), each


def train(graph: Graph, labels: Labels, *, threshold: float = 0.5, seed: int = 0, source: dict | None = None,
          now: datetime, feature_set: str = feature_sets.DEFAULT, max_review_share: float | None = None,
          validate: bool = True, unlisted_least: int = UNLISTED) -> tuple[risk.RiskModel, str]:
    """A model trained on the training rows (with the graph's busy unlisted addresses as normal examples, see
    `unlisted`), validated on grouped and time-ordered folds of them, its threshold set for a review share of the
    graph's addresses if asked, its held-out metrics recorded; and the split."""
    names = feature_sets.names_of(feature_set)
    train_rows, held_rows, how = _split_rows(labels, seed)
    extra = unlisted(graph, labels, least=unlisted_least, seed=seed)
    extra_train = extra.part("train")
    labelled_train = labels.take(train_rows)
    part = _joined(labelled_train, extra_train)
    x = graph.features(labels, names)  # once for every row: the training and held-out rows are parts of it
    x_train = np.vstack([x[train_rows], graph.features(extra_train, names)])
    y = part.label
    weight, each = _weights(labelled_train, len(extra_train))
    fit = {"source": {**(source or {}), "split": how, "as_of_micro": graph.as_of,
                      "unlisted_normal": {"least_transfers": unlisted_least, "train": len(extra_train),
                                          "held_out": len(extra) - len(extra_train), "weight": each}},
           "now": now, "seed": seed, "weight": weight}
    model = risk.train(x_train, y, names, threshold=threshold, **fit)
    if max_review_share is not None:
        scored = risk.probabilities(model, graph.features(population(graph, seed), names))
        threshold = math.floor(validation.review_threshold(scored, max_review_share) * 1e4) / 1e4
        model = risk.train(x_train, y, names, threshold=threshold, **fit)
        model.training["max_review_share"] = max_review_share
    if validate and len(y) >= 4 * risk.MIN_PER_CLASS:
        artefact = graph.features(part, feature_sets.ARTEFACT)
        model.metrics["validation"] = validation.validate(
            x_train, artefact, np.asarray(y), group=validation.groups(graph.index, part, as_of=graph.as_of),
            first=validation.first_seen(graph.index, part, as_of=graph.as_of), threshold=model.threshold, seed=seed,
            weight=weight)
    if held_rows is not None and len(held_rows):
        held_out = labels.take(held_rows)
        model.metrics["held_out"] = risk.metrics(held_out.label, risk.probabilities(model, x[held_rows]),
                                                 model.threshold)
        model.held_out = held_out.address.to_pylist()
    extra_held = extra.part("test")
    if len(extra_held):
        p = risk.probabilities(model, graph.features(extra_held, names))
        model.metrics["held_out_unlisted"] = {"rows": len(p), "reviewed": int((p >= model.threshold).sum()),
                                              "specificity": float((p < model.threshold).mean())}
    return model, how


def evaluation_rows(model: risk.RiskModel, labels: Labels, split: str | None) -> tuple[Labels, str]:
    """The labelled rows to evaluate on, and what they are: the split asked for, else the labels' test split,
    else the model's own held-out addresses; never, unasked, the rows it was trained on."""
    if split is not None:
        return labels.part(split), f"split {split!r}"
    if "test" in labels.splits():
        return labels.part("test"), "split 'test'"
    held = set(model.held_out)
    chosen = np.flatnonzero([a in held for a in labels.address.to_pylist()])
    if not len(chosen):
        raise risk.ModelError("these labels have no test split and none of the addresses the model held out in "
                              "training: name the rows to evaluate on with --split")
    return labels.take(chosen), f"the {len(chosen):,} addresses the model held out in training"


def evaluate(model: risk.RiskModel, graph: Graph, labels: Labels) -> dict:
    """Precision, recall, specificity, F1, accuracy and ROC-AUC of the model on these labelled addresses, with
    bootstrap 95% intervals."""
    if len(labels) == 0:
        raise risk.ModelError("no labelled addresses to evaluate on")
    return validation.interval(labels.label, risk.probabilities(model, graph.features(labels, model.features)),
                               threshold=model.threshold, seed=0)
