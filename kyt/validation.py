"""Honest validation of the address-risk model: neighbourhoods and time kept apart, the sampling artefact checked.

Random splits flatter a model on a crawled graph: two labelled addresses that share
counterparties land on both sides and the model learns the neighbourhood, not the
behaviour. Here labelled addresses that share a counterparty (hubs aside) form one group
and a group is never split; a second split trains on the addresses active first and
validates on the later ones. Each figure has a bootstrap 95% interval. The same folds train
a model on the artefact features alone (how busy and how old a crawl found an address):
where it does well, the data carries the artefact, and the behaviour model must not lean on it.
"""

from __future__ import annotations

import numpy as np

from graph.features import transfers_before
from graph.index import InboundIndex
from graph.model import Labels
from kyt import risk

HUB = 2
"""A counterparty joins the labelled addresses it touches into a group when it touches at most this many: on a
crawl as tangled as T-EDGE, larger hubs join nearly everything into one group (docs/models.md)."""
EVER = np.iinfo(np.int64).max
"""An as-of time after every transfer."""
FOLDS = 5
BOOTSTRAP = 500


def groups(index: InboundIndex, labels: Labels, *, as_of: int = EVER) -> np.ndarray:
    """A group id per labelled address: addresses that share a counterparty (not a hub) share a group."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    ids = index.ids(labels.address)
    sender, receiver, *_ = transfers_before(index, as_of)
    n = len(index.addresses)
    position = np.full(n + 1, -1)
    position[ids[ids >= 0]] = np.flatnonzero(ids >= 0)
    own = np.concatenate([sender, receiver])
    other = np.concatenate([receiver, sender])
    mine = position[own] >= 0
    pairs = np.unique(position[own[mine]] * (n + 1) + other[mine])
    member, partner = pairs // (n + 1), pairs % (n + 1)
    shared = np.bincount(partner, minlength=n + 1)
    keep = (shared[partner] > 1) & (shared[partner] <= HUB)
    # a bipartite graph: labelled addresses 0..L-1, counterparties L.. ; its components are the groups
    size = len(labels)
    links = coo_matrix((np.ones(int(keep.sum())), (member[keep], size + partner[keep])),
                       shape=(size + n + 1, size + n + 1))
    _, component = connected_components(links, directed=False)
    return component[:size]


def first_seen(index: InboundIndex, labels: Labels, *, as_of: int = EVER) -> np.ndarray:
    """Each labelled address's first transfer time (microseconds; the largest integer when it has none)."""
    sender, receiver, _, _, times = transfers_before(index, as_of)
    n = len(index.addresses) + 1
    first = np.full(n, EVER)
    np.minimum.at(first, receiver, times.astype(np.int64))
    np.minimum.at(first, sender, times.astype(np.int64))
    ids = index.ids(labels.address)
    return first[np.where(ids >= 0, ids, n - 1)]


def interval(y: np.ndarray, p: np.ndarray, *, threshold: float, seed: int) -> dict:
    """The figures with bootstrap 95% intervals (resampling the rows)."""
    point = risk.metrics(y, p, threshold)
    rng = np.random.default_rng(seed)
    draws = {k: [] for k in ("roc_auc", "recall", "specificity", "precision")}
    for _ in range(BOOTSTRAP):
        pick = rng.integers(0, len(y), len(y))
        if len(set(y[pick].tolist())) < 2:
            continue
        found = risk.metrics(y[pick], p[pick], threshold)
        for k in draws:
            draws[k].append(found[k])
    return {**point, **{f"{k}_95": [round(float(np.quantile(v, 0.025)), 4), round(float(np.quantile(v, 0.975)), 4)]
                        for k, v in draws.items() if v}}


def out_of_fold(x: np.ndarray, y: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]], *,
                seed: int, weight: np.ndarray | None = None) -> np.ndarray:
    """Each row's probability from a model that did not see its fold (NaN for rows in no validation fold)."""
    p = np.full(len(y), np.nan)
    for train, test in folds:
        chosen = None if weight is None else weight[train]
        p[test] = risk.fitted(x[train], y[train], seed=seed, weight=chosen).predict_proba(x[test])[:, 1]
    return p


def grouped_folds(group: np.ndarray, y: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Five folds that never split a group, each with both classes."""
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y, group))


def time_fold(first: np.ndarray, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train on each class's addresses first seen earliest (70%), validate on its later ones: time apart, and
    both classes on both sides (crawls seldom sample the two classes from the same years)."""
    train, test = [], []
    for label in (0, 1):
        rows = np.flatnonzero(y == label)
        order = rows[np.argsort(first[rows], kind="stable")]
        cut = int(len(order) * 0.7)
        train.append(order[:cut])
        test.append(order[cut:])
    return [(np.sort(np.concatenate(train)), np.sort(np.concatenate(test)))]


CALIBRATION_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0000001)
"""Edges of the probability bins the calibration table compares with what was observed."""


def calibration(y: np.ndarray, p: np.ndarray) -> list[dict]:
    """Per probability bin with rows in it: its range, rows, mean predicted probability and observed risky share.

    >>> calibration(np.array([0, 1, 1]), np.array([0.1, 0.95, 0.85]))[0]
    {'from': 0.0, 'to': 0.2, 'rows': 1, 'predicted': 0.1, 'observed': 0.0}
    """
    out = []
    which = np.digitize(p, CALIBRATION_BINS[1:-1])
    for b in range(len(CALIBRATION_BINS) - 1):
        rows = which == b
        if rows.any():
            out.append({"from": CALIBRATION_BINS[b], "to": min(CALIBRATION_BINS[b + 1], 1.0), "rows": int(rows.sum()),
                        "predicted": round(float(p[rows].mean()), 4), "observed": round(float(y[rows].mean()), 4)})
    return out


def validate(x: np.ndarray, artefact: np.ndarray, y: np.ndarray, *, group: np.ndarray, first: np.ndarray,
             threshold: float, seed: int = 0, weight: np.ndarray | None = None) -> dict:
    """Figures of the model (and of a model on the artefact features alone) on grouped and time-ordered folds."""
    out = {}
    for name, folds in (("grouped", grouped_folds(group, y, seed)), ("time", time_fold(first, y))):
        for what, matrix in (("model", x), ("artefact_only", artefact)):
            p = out_of_fold(matrix, y, folds, seed=seed, weight=weight)
            seen = ~np.isnan(p)
            out[f"{name}_{what}"] = interval(y[seen], p[seen], threshold=threshold, seed=seed)
            if what == "model":
                out[f"{name}_calibration"] = calibration(y[seen], p[seen])
    out["groups"] = int(len(set(group.tolist())))
    return out


def review_threshold(probabilities: np.ndarray, share: float) -> float:
    """The lowest probability from which at most `share` of these addresses would be sent to review (calibrated
    probabilities come in steps, so the share reached may be lower)."""
    if not 0 < share < 1:
        raise risk.ModelError(f"the review share is between 0 and 1, not {share}")
    if not len(probabilities):
        raise risk.ModelError("no addresses to set the review threshold on")
    ordered = np.sort(probabilities)
    values = np.unique(ordered)
    reviewed = (len(ordered) - np.searchsorted(ordered, values, side="left")) / len(ordered)
    fitting = values[reviewed <= share]
    if not len(fitting):
        raise risk.ModelError(f"{reviewed[-1]:.1%} of the addresses share the model's highest probability "
                              f"({values[-1]:.4f}): no threshold sends at most {share:.1%} of them to review; "
                              f"ask for a larger share")
    return min(max(float(fitting[0]), 0.01), 0.999999)

