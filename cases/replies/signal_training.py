"""Training and measuring the learned signal on the project's corpus, with a held-out part it never sees.

The corpus lines (JSON Lines: id, locale, label, category, context, text) are split by a hash of
their id: a quarter is held out (about a quarter of every language and label, by the hash alone). The model is fitted on the
rest; calibration and the threshold come from 5-fold out-of-fold scores of the rest; the
figures are measured on the held-out quarter only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from cases.errors import InvalidRequest
from cases.replies.signal import NGRAMS, Signal, prepared

HELD_OUT = 4
"""One line in this many (by the hash of its id) is held out."""
REGULARISATION = 4.0
"""The logistic regression's C (inverse regularisation), the same for every fold and the final fit."""
FIELDS = ("id", "locale", "label", "category", "context", "text")


def read_corpus(folders: list[Path]) -> list[dict]:
    """Every leak and safe line of the .jsonl files of the folders (warn lines are the rules' own)."""
    rows: list[dict] = []
    for folder in folders:
        paths = sorted(folder.glob("*.jsonl"))
        if not paths:
            raise InvalidRequest(f"{folder}: no .jsonl corpus files")
        for path in paths:
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as error:
                raise InvalidRequest(f"{path}: cannot be read as UTF-8 text: {error}") from None
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as error:
                    raise InvalidRequest(f"{path}:{number}: not JSON: {error}") from None
                if not isinstance(row, dict):
                    raise InvalidRequest(f"{path}:{number}: a line is a JSON object, not {type(row).__name__}")
                missing = [f for f in FIELDS if not isinstance(row.get(f), str)]
                if missing:
                    raise InvalidRequest(f"{path}:{number}: missing {', '.join(missing)}")
                if row["label"] in ("leak", "safe"):
                    rows.append(row)
    ids = [r["id"] for r in rows]
    if len(set(ids)) != len(ids):
        raise InvalidRequest("a corpus line id is used twice")
    return rows


def corpus_hash(rows: list[dict]) -> str:
    """A digest of the lines the model learns from, stored in the model to tell when it is stale."""
    digest = hashlib.sha256()
    for row in sorted(rows, key=lambda r: r["id"]):
        digest.update(json.dumps([row[f] for f in FIELDS], ensure_ascii=False).encode())
    return digest.hexdigest()


def held_out(row: dict) -> bool:
    """Whether a line is in the held-out quarter (a stable function of its id)."""
    return int(hashlib.sha256(row["id"].encode()).hexdigest(), 16) % HELD_OUT == 0


def vectorizer() -> TfidfVectorizer:
    """The TF-IDF the model is trained with; Signal.features computes the same, without scikit-learn."""
    return TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, lowercase=False, sublinear_tf=True, min_df=2)


def _fit(texts: list[str], labels: np.ndarray):
    vec = vectorizer()
    matrix = vec.fit_transform([prepared(t) for t in texts])
    model = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=5000)
    model.fit(matrix, labels)
    return vec, model


def _out_of_fold(texts: list[str], labels: np.ndarray, seed: int) -> np.ndarray:
    scores = np.zeros(len(texts))
    for train, test in StratifiedKFold(n_splits=5, shuffle=True, random_state=seed).split(texts, labels):
        vec, model = _fit([texts[i] for i in train], labels[train])
        scores[test] = model.decision_function(vec.transform([prepared(texts[i]) for i in test]))
    return scores


def _platt(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    calibrator = LogisticRegression(C=1e6, max_iter=1000)
    calibrator.fit(scores.reshape(-1, 1), labels)
    return float(calibrator.coef_[0][0]), float(calibrator.intercept_[0])


def train(rows: list[dict], *, max_safe_held: float, seed: int = 7) -> Signal:
    """A model fitted on the lines not held out, holding at most `max_safe_held` of their safe hold lines."""
    if not 0 < max_safe_held < 1:
        raise InvalidRequest(f"the share of safe replies the signal may hold is between 0 and 1, not {max_safe_held}")
    fit_rows = [r for r in rows if not held_out(r)]
    texts = [r["text"] for r in fit_rows]
    labels = np.array([r["label"] == "leak" for r in fit_rows], dtype=int)
    if labels.sum() < 10 or (1 - labels).sum() < 10:
        raise InvalidRequest("the corpus needs at least 10 leak and 10 safe lines outside the held-out part")
    oof = _out_of_fold(texts, labels, seed)
    a, b = _platt(oof, labels)
    probability = 1 / (1 + np.exp(-(a * oof + b)))
    safe_hold = [p for p, r in zip(probability, fit_rows) if r["label"] == "safe" and r["context"] == "hold"]
    threshold = float(np.quantile(safe_hold, 1 - max_safe_held)) if safe_hold else 0.5
    vec, model = _fit(texts, labels)
    vocabulary = {gram: int(index) for gram, index in vec.vocabulary_.items()}
    signal = Signal(vocabulary, tuple(float(x) for x in vec.idf_), tuple(float(x) for x in model.coef_[0]),
                    float(model.intercept_[0]), (a, b), round(threshold, 4), corpus_hash(rows),
                    {"max_safe_held": max_safe_held, "lines_fitted": len(fit_rows),
                     "lines_held_out": len(rows) - len(fit_rows), "regularisation": REGULARISATION})
    return _with_figures(signal, rows)


def _with_figures(signal: Signal, rows: list[dict]) -> Signal:
    return replace(signal, figures={**signal.figures, **measure(signal, [r for r in rows if held_out(r)])})


def measure(signal: Signal, rows: list[dict]) -> dict:
    """Per language: leaks held, safe hold lines held, ROC-AUC and Brier score of the probabilities."""
    from sklearn.metrics import brier_score_loss, roc_auc_score
    if not rows:
        raise InvalidRequest("no leak or safe lines to measure the signal on")
    out = {}
    probabilities = signal.probabilities([r["text"] for r in rows])
    for locale in sorted({r["locale"] for r in rows}) + ["all"]:
        pick = [(r, p) for r, p in zip(rows, probabilities) if locale in ("all", r["locale"])]
        truth = [r["label"] == "leak" for r, _ in pick]
        scores = [p for _, p in pick]
        leaks = [p for r, p in pick if r["label"] == "leak"]
        safe = [p for r, p in pick if r["label"] == "safe" and r["context"] == "hold"]
        out[locale] = {"lines": len(pick), "leaks": len(leaks),
                       "leaks_held": sum(p >= signal.threshold for p in leaks),
                       "safe_hold_lines": len(safe), "safe_held": sum(p >= signal.threshold for p in safe),
                       "roc_auc": round(roc_auc_score(truth, scores), 4) if 0 < sum(truth) < len(truth) else None,
                       "brier": round(brier_score_loss(truth, scores), 4)}
    return {"held_out": out, "reliability": reliability(probabilities, [r["label"] == "leak" for r in rows])}


def reliability(probabilities: list[float], truth: list[bool], bins: int = 5) -> list[dict]:
    """Calibration by bins of predicted probability: lines, mean probability and the observed share of leaks."""
    out = []
    for k in range(bins):
        low, high = k / bins, (k + 1) / bins
        pick = [(p, t) for p, t in zip(probabilities, truth) if low <= p < high or (k == bins - 1 and p == 1.0)]
        if pick:
            out.append({"from": low, "to": high, "lines": len(pick),
                        "mean_probability": round(sum(p for p, _ in pick) / len(pick), 3),
                        "share_leaks": round(sum(t for _, t in pick) / len(pick), 3)})
    return out
