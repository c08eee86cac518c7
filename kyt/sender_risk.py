"""The address-risk model in a scoring run: each deposit's sender gets a probability, and a sender at or
above the model's threshold turns an allow into a review (the rule `address-risk-model`), never a freeze.

Features are computed once per distinct sender, from the run's index, as of the run's time
(not each deposit's: a sender's later transfers count too, and a re-screen may move it).
Explanations (the features that raise a probability most) cost a prediction per feature,
so they are computed for the deposits a person will look at, frozen ones first, then the
reviews by falling probability, up to EXPLAINED senders; the others keep the probability.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from decimal import Decimal

import numpy as np
import pyarrow.compute as pc

from kyt import feature_sets
from graph.index import InboundIndex
from graph.model import Deposits, FlaggedWallets, Services
from kyt import risk
from kyt.decide import Decisions
from kyt.rules import Rule

EXPLAINED = 5_000
"""At most this many distinct senders are explained per run."""

MODEL_RULE = Rule(
    "address-risk-model",
    "The sender's learned address-risk probability is at or above the model's threshold and no rule matched: "
    "a person reviews it; the model never freezes.",
    "*", 1, Decimal(0), Decimal(0), "review")


@dataclass
class SenderRisk:
    """Per deposit, its sender's calibrated probability; explanations for the deposits people will see."""

    probability: np.ndarray
    model: risk.RiskModel
    explained: dict[int, list[tuple[str, float]]]
    raised: np.ndarray
    """The deposits the model turned from allow into review."""
    as_of: str = ""
    """The time the features were read at: the run's as-of time, not each deposit's (see README)."""

    def record(self, d: int) -> dict:
        """What a case or alert keeps of the sender's risk (with the model's version and the features' time)."""
        return {"probability": round(float(self.probability[d]), 6), "model": self.model.version,
                "threshold": self.model.threshold, "features_as_of": self.as_of,
                "top_features": [[name, weight] for name, weight in self.explained.get(d, [])]}


def checked(model: risk.RiskModel) -> risk.RiskModel:
    """The model, if it is an address-risk model (its features are the addresses'); else ModelError."""
    if feature_sets.set_of(model.features) is None:
        kind = "a triage model (of cases)" if model.version.startswith("triage-") else "not an address-risk model"
        raise risk.ModelError(f"{model.version} is {kind}: `kyt score --model` takes one made by `kyt model train`")
    return model


def apply(decisions: Decisions, model: risk.RiskModel, index: InboundIndex, *, deposits: Deposits, as_of: int,
          services: Services | None, flagged: FlaggedWallets | None) -> tuple[Decisions, SenderRisk]:
    """Decisions with the model's reviews added (allow -> review only), and the risk record of the run.

    The features of each distinct sender are computed once and serve both the probabilities
    and the explanations.
    """
    senders = pc.unique(deposits.from_address)
    features = feature_sets.compute(model.features, index, senders, as_of=as_of, services=services, flagged=flagged)
    where = pc.index_in(deposits.from_address, value_set=senders).to_numpy() if len(deposits) else \
        np.empty(0, dtype=np.int64)
    probability = risk.probabilities(model, features)[where] if len(deposits) else np.empty(0)
    raised = np.flatnonzero((decisions.code == 0) & (probability >= model.threshold))
    policy = replace(decisions.policy, rules=decisions.policy.rules + (MODEL_RULE,))
    code = decisions.code.copy()
    code[raised] = 1
    match_deposit = np.concatenate([decisions.match_deposit, raised]).astype(np.int64)
    match_rule = np.concatenate([decisions.match_rule, np.full(len(raised), len(policy.rules) - 1)]).astype(np.int64)
    order = np.lexsort((match_rule, match_deposit))
    seen = np.flatnonzero(code > 0)
    seen = seen[np.lexsort((-probability[seen], -code[seen]))]  # frozen first, then the likeliest
    explained: dict[int, list[tuple[str, float]]] = {}
    if len(seen):
        chosen = in_first_order(where[seen])[:EXPLAINED]  # sender rows, in that order
        reasons = dict(zip(chosen.tolist(), risk.explain(model, features[chosen])))
        explained = {int(d): reasons[int(w)] for d, w in zip(seen, where[seen]) if int(w) in reasons}
    updated = Decisions(code, match_deposit[order], match_rule[order], policy)
    when = datetime.fromtimestamp(as_of / 1e6, tz=timezone.utc).isoformat().replace("+00:00", "Z")
    return updated, SenderRisk(probability, model, explained, raised, when)


def in_first_order(values: np.ndarray) -> np.ndarray:
    """The distinct values in the order they first appear.

    >>> in_first_order(np.array([3, 1, 3, 2, 1])).tolist()
    [3, 1, 2]
    """
    _, first = np.unique(values, return_index=True)
    return values[np.sort(first)]
