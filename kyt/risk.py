"""The learned address-risk model: train, evaluate, predict with a calibrated probability, explain, save.

A model only ranks and suggests review: `kyt.batch` turns a probability at or above the
model's threshold into a review when no rule matched, never into a freeze. The pipeline is
gradient-boosted trees (missing values handled natively) inside a 5-fold isotonic
calibration (one model, calibrated on five folds' predictions), so that 0.8 means about 8
in 10 addresses like it were risky in training.

>>> metrics(np.array([1, 0, 1, 0]), np.array([0.9, 0.2, 0.4, 0.6]), 0.5)["precision"]
0.5
"""

from __future__ import annotations

import hashlib
import json
import platform
import warnings
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from kyt.errors import KytError

FORMAT = 1
"""The model file's layout; files of another layout are refused."""
TOP = 3
MIN_PER_CLASS = 10
PIPELINE = "hist-gradient-boosting(200 iterations, rate 0.08, 15 leaves) + calibration on 5 folds"
"""What the pipeline is, in words; part of every model's version, so a change of recipe changes the version."""
WEIGHT = "calibratedclassifiercv__sample_weight"
"""Where the pipeline takes each row's weight (the trees and the calibration both read it)."""


class ModelError(KytError):
    """A model file that cannot be used, or data a model cannot be trained on."""


@dataclass
class RiskModel:
    """A trained pipeline with what it needs to be used and judged: features, version, threshold, metrics."""

    pipeline: object
    features: tuple[str, ...]
    version: str
    threshold: float
    medians: list[float]
    """Each feature's median over the normal examples of training: a typical normal address, the neutral value
    explanations compare against."""
    trained_at: str
    training: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    held_out: list[str] = field(default_factory=list)
    """The labelled addresses held out of training (so that an evaluation never reuses training rows)."""

    def describe(self) -> dict:
        """Everything but the pipeline and the held-out list, for printing."""
        return {k: v for k, v in asdict(self).items() if k not in ("pipeline", "held_out")} | {
            "held_out_addresses": len(self.held_out)}


class NeverSeen:
    """A pipeline step that sets the features never seen in training (all missing) to 0.

    The trees read a missing value as "unknown", but a feature missing in every training row
    (no sender risk yet, say) cannot be binned at all; such a feature carries nothing anyway.
    """

    def fit(self, x: np.ndarray, y: np.ndarray | None = None) -> "NeverSeen":
        self.empty_ = np.isnan(x).all(axis=0) if len(x) else np.zeros(x.shape[1], dtype=bool)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        if not self.empty_.any():
            return x
        out = np.array(x, dtype=np.float64, copy=True)
        out[:, self.empty_] = 0.0
        return out

    def get_params(self, deep: bool = True) -> dict:
        return {}

    def set_params(self, **params: object) -> "NeverSeen":
        return self


def _pipeline(seed: int, rows: int, calibration: str = "isotonic"):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline

    leaf = int(np.clip(rows // 20, 2, 20))  # small training sets (a young case book) still get to split
    trees = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.08, max_leaf_nodes=15, min_samples_leaf=leaf,
                                           l2_regularization=1.0, random_state=seed)
    # the calibration is learnt from 5 folds' predictions, then one model fitted on everything
    # predicts: a fifth of the cost of averaging five, for scoring a million senders
    return make_pipeline(NeverSeen(), CalibratedClassifierCV(trees, method=calibration, cv=5, ensemble=False))


def _fit_params(weight: np.ndarray | None) -> dict[str, np.ndarray]:
    """The pipeline's fit parameters for these row weights (none when every row counts once)."""
    return {} if weight is None else {WEIGHT: np.asarray(weight, dtype=np.float64)}


def metrics(y: np.ndarray, probability: np.ndarray, threshold: float) -> dict:
    """Precision, recall, F1, accuracy at the threshold, ROC-AUC and the Brier score, with the counts behind them."""
    from sklearn.metrics import accuracy_score, brier_score_loss, f1_score, precision_score, recall_score, roc_auc_score

    predicted = probability >= threshold
    normal = y == 0
    return {
        "precision": float(precision_score(y, predicted, zero_division=0)),
        "recall": float(recall_score(y, predicted, zero_division=0)),
        "specificity": float((~predicted[normal]).mean()) if normal.any() else float("nan"),
        "f1": float(f1_score(y, predicted, zero_division=0)),
        "accuracy": float(accuracy_score(y, predicted)),
        "roc_auc": float(roc_auc_score(y, probability)) if len(set(y.tolist())) == 2 else float("nan"),
        "brier": float(brier_score_loss(y, probability)) if len(y) else float("nan"),
        "rows": int(len(y)), "positives": int(y.sum()), "threshold": threshold,
    }


def train(x: np.ndarray, y: np.ndarray, features: tuple[str, ...], *, threshold: float = 0.5, seed: int = 0,
          source: dict | None = None, now: datetime, calibration: str = "isotonic",
          weight: np.ndarray | None = None) -> RiskModel:
    """Fit the calibrated pipeline on labelled rows (1 = risky); ModelError when the labels cannot train it.

    `calibration` "sigmoid" suits small sets, where isotonic steps would tie many rows; `weight`, one per row,
    says how much each row counts (all 1 by default).
    """
    y = np.asarray(y, dtype=np.int64)
    if set(np.unique(y).tolist()) - {0, 1}:
        raise ModelError("labels must be 0 (normal) or 1 (risky)")
    if min(int(y.sum()), int(len(y) - y.sum())) < MIN_PER_CLASS:  # folds within folds need them
        raise ModelError(f"need at least {MIN_PER_CLASS} risky and {MIN_PER_CLASS} normal examples to train, not "
                         f"{int(y.sum())} and {int(len(y) - y.sum())}")
    if not 0 < threshold < 1:
        raise ModelError(f"the threshold is a probability between 0 and 1, not {threshold}")
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    pipeline = _pipeline(seed, len(y), calibration)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    weights = _fit_params(weight)
    out_of_fold = cross_val_predict(_pipeline(seed, len(y), calibration), x, y, cv=folds, method="predict_proba",
                                    params=weights)[:, 1]
    pipeline.fit(x, y, **weights)
    digest = hashlib.sha256(np.ascontiguousarray(x).tobytes() + y.tobytes()
                            + b"".join(w.tobytes() for w in weights.values())
                            + json.dumps([features, threshold, seed, PIPELINE, calibration]).encode()).hexdigest()
    with warnings.catch_warnings():  # a feature missing in every row has no median: 0 then
        warnings.simplefilter("ignore", RuntimeWarning)
        middle = np.nanmedian(np.where(np.isfinite(x[y == 0]), x[y == 0], np.nan), axis=0)
    medians = [float(v) if np.isfinite(v) else 0.0 for v in middle]
    import sklearn

    return RiskModel(pipeline, tuple(features), f"risk-{digest[:12]}", threshold, medians,
                     now.isoformat(timespec="seconds"),
                     training={"rows": int(len(y)), "risky": int(y.sum()), "seed": seed, "pipeline": PIPELINE,
                               "calibration": calibration,
                               "sklearn": sklearn.__version__,
                               "python": platform.python_version(), **(source or {})},
                     metrics={"cross_validated": metrics(y, out_of_fold, threshold)})


def fitted(x: np.ndarray, y: np.ndarray, *, seed: int = 0, calibration: str = "isotonic",
           weight: np.ndarray | None = None):
    """The calibrated pipeline fitted on these rows alone (no figures, no version): for validation folds."""
    return _pipeline(seed, len(y), calibration).fit(x, np.asarray(y, dtype=np.int64), **_fit_params(weight))


def probabilities(model: RiskModel, x: np.ndarray) -> np.ndarray:
    """The calibrated probability that each row is risky."""
    if x.shape[1] != len(model.features):
        raise ModelError(f"the model reads {len(model.features)} features, these rows have {x.shape[1]}")
    return model.pipeline.predict_proba(x)[:, 1] if len(x) else np.empty(0)


def _uncalibrated(model: RiskModel, x: np.ndarray) -> np.ndarray:
    """The trees' own score (log-odds), before calibration: it still moves where the probability sits at a step."""
    steps = model.pipeline.steps
    trees = steps[-1][1].calibrated_classifiers_[0].estimator
    ready = x
    for _, step in steps[:-1]:
        ready = step.transform(ready)
    return trees.decision_function(ready)


def explain(model: RiskModel, x: np.ndarray, top: int = TOP) -> list[list[tuple[str, float]]]:
    """Per row, the features that raise its risk most: (name, how much the trees' score falls, in log-odds, when
    the feature is set to its training median)."""
    if not len(x):
        return []
    base = _uncalibrated(model, x)
    raised = np.empty((len(x), len(model.features)))
    for j, median in enumerate(model.medians):
        neutral = x.copy()
        neutral[:, j] = median
        raised[:, j] = base - _uncalibrated(model, neutral)
    order = np.argsort(-raised, axis=1)[:, :top]
    return [[(model.features[j], round(float(raised[i, j]), 4)) for j in row if raised[i, j] > 0]
            for i, row in enumerate(order)]


def check_output(path: Path) -> None:
    """ModelError unless a model file can be written at `path` (checked before a long training)."""
    if path.is_dir():
        raise ModelError(f"{path} is a directory, not a model file to write")
    if not path.parent.is_dir():
        raise ModelError(f"{path.parent} does not exist: make the folder first")


def save(model: RiskModel, path: Path) -> None:
    """Write the model (joblib) beside a readable JSON of its description; the file is replaced whole."""
    import joblib

    check_output(path)
    partial = path.with_name(path.name + ".partial")
    try:
        joblib.dump({"format": FORMAT, "model": model}, partial)
        partial.replace(path)
        path.with_name(path.name + ".json").write_text(json.dumps(model.describe(), indent=2, default=str) + "\n")
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise ModelError(f"{path}: cannot be written: {error.strerror or error}") from None


def description(path: Path) -> dict:
    """A model's description from the JSON written beside it, without loading (unpickling) the model."""
    sidecar = path.with_name(path.name + ".json")
    if not sidecar.exists():
        raise ModelError(f"{sidecar}: no description beside the model file (`kyt model train` writes one)")
    try:
        return json.loads(sidecar.read_text())
    except ValueError:
        raise ModelError(f"{sidecar}: not a model description") from None


def load(path: Path) -> RiskModel:
    """A model saved by `save`. Only load files you made: unpickling can run code before any check here."""
    import joblib

    try:
        saved = joblib.load(path)
    except FileNotFoundError:
        raise ModelError(f"{path}: no such model file") from None
    except Exception as error:  # noqa: BLE001 - whatever a damaged or foreign file raises
        raise ModelError(f"{path}: not a model file of this tool ({error.__class__.__name__})") from None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT or not isinstance(saved.get("model"), RiskModel):
        raise ModelError(f"{path}: not a model file of this tool (or of another version of it)")
    return saved["model"]
