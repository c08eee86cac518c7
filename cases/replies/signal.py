"""The learned second signal: how likely a reply about a hold is to tip off, from character n-grams.

A linear model (logistic regression on TF-IDF of character 2- to 5-grams of the folded text)
trained on the project's own multilingual corpus (cases/replies/signal_corpus and the linter's
development corpus), with Platt calibration on out-of-fold scores. It can only hold a message
for a supervisor: it never clears a text the rules block. Trained by `kyt reply signal train`
(cases/replies/signal_training.py); the shipped model is cases/replies/signal.json.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cases.errors import InvalidRequest
from cases.replies.folding import fold

MODEL_FILE = Path(__file__).with_name("signal.json")
NGRAMS = (2, 5)
"""Character n-gram lengths, taken within words (so that each n-gram belongs to one word)."""
FORMAT = 1


def grams(word: str) -> list[str]:
    """The character n-grams of one word padded with a space each side, as scikit-learn's `char_wb` takes them.

    >>> grams("sar")[:4]
    [' s', 'sa', 'ar', 'r ']
    """
    padded = f" {word} "
    out = []
    for n in range(NGRAMS[0], NGRAMS[1] + 1):
        if n > len(padded):
            if out:
                break
            out.append(padded)  # a word shorter than n gives itself once, as scikit-learn does
            break
        out.extend(padded[i:i + n] for i in range(len(padded) - n + 1))
    return out


def prepared(text: str) -> str:
    """The text as the model reads it: folded like the rules read it (case, accents, stand-in digits)."""
    return fold(text).text


@dataclass(frozen=True)
class Reason:
    """A word of the text and how much it pushed the score towards tipping off (in log-odds)."""

    word: str
    weight: float


@dataclass(frozen=True)
class Signal:
    """A trained model: vocabulary and weights, its calibration and the probability from which it holds."""

    vocabulary: dict[str, int]
    idf: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    platt: tuple[float, float]
    """p = 1 / (1 + exp(-(a * score + b))) on the linear score."""
    threshold: float
    corpus_sha256: str
    figures: dict

    def features(self, text: str) -> dict[int, float]:
        """TF-IDF of the text's known n-grams (sublinear term frequency, L2-normalised), by vocabulary index."""
        counts: dict[int, int] = {}
        for word in prepared(text).split():
            for gram in grams(word):
                index = self.vocabulary.get(gram)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
        weights = {i: (1.0 + math.log(c)) * self.idf[i] for i, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {i: w / norm for i, w in weights.items()} if norm else {}

    def probability(self, text: str) -> float:
        """The calibrated probability that `text` tips off."""
        score = sum(v * self.coef[i] for i, v in self.features(text).items()) + self.intercept
        a, b = self.platt
        return 1.0 / (1.0 + math.exp(-(a * score + b)))

    def probabilities(self, texts: list[str]) -> list[float]:
        return [self.probability(t) for t in texts]

    def reasons(self, text: str, most: int = 3) -> list[Reason]:
        """The words whose n-grams pushed the score up most, strongest first."""
        value = self.features(text)
        words = prepared(text).split()
        found_in = [{self.vocabulary[g] for g in grams(w) if g in self.vocabulary} for w in words]
        shared: dict[int, int] = {}
        for found in found_in:
            for index in found:
                shared[index] = shared.get(index, 0) + 1
        weights: dict[str, float] = {}
        for word, found in zip(words, found_in):
            weight = sum(value.get(i, 0.0) * self.coef[i] / shared[i] for i in found)
            weights[word] = max(weights.get(word, weight), weight)
        ranked = sorted(((w, x) for w, x in weights.items() if x > 0), key=lambda item: -item[1])
        return [Reason(w, round(float(x), 3)) for w, x in ranked[:most]]

    def to_dict(self) -> dict:
        return {"format": FORMAT, "ngrams": list(NGRAMS), "vocabulary": self.vocabulary,
                "idf": [round(x, 6) for x in self.idf], "coef": [round(x, 6) for x in self.coef], "intercept": self.intercept, "platt": list(self.platt),
                "threshold": self.threshold, "corpus_sha256": self.corpus_sha256, "figures": self.figures}

    @classmethod
    def from_dict(cls, data: dict, source: str = "model") -> "Signal":
        try:
            if data["format"] != FORMAT or tuple(data["ngrams"]) != NGRAMS:
                raise InvalidRequest(f"{source}: a signal model of another format; retrain it (kyt reply signal train)")
            size = len(data["vocabulary"])
            if len(data["idf"]) != size or len(data["coef"]) != size:
                raise InvalidRequest(f"{source}: vocabulary, idf and weights differ in length")
            return cls(dict(data["vocabulary"]), tuple(float(x) for x in data["idf"]),
                       tuple(float(x) for x in data["coef"]), float(data["intercept"]),
                       (float(data["platt"][0]), float(data["platt"][1])), float(data["threshold"]),
                       str(data["corpus_sha256"]), dict(data["figures"]))
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise InvalidRequest(f"{source}: not a signal model: {error}") from None


def save(signal: Signal, path: Path) -> None:
    """Write the model whole or not at all."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(json.dumps(signal.to_dict(), ensure_ascii=False, separators=(",", ":"), sort_keys=True),
                           encoding="utf-8")
        partial.replace(path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise InvalidRequest(f"{path}: cannot write the signal model: {error.strerror or error}") from None


@lru_cache(maxsize=2)
def load(path: Path = MODEL_FILE) -> Signal | None:
    """The model of a file, or None when there is none (the rules still run)."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InvalidRequest(f"{path}: cannot read the signal model: {error}") from None
    return Signal.from_dict(data, str(path))
