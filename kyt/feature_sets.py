"""The address-risk model's feature sets, and the features of a model's own set for any addresses.

`behaviour` (graph.behaviour, the default) holds only shares, ratios and regularity within an
address's own activity, which mean the same on any crawl; `legacy` (graph.features) adds
counts, value totals, ages and timestamps, which do not (docs/models.md says why).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from graph import behaviour, features
from graph.index import InboundIndex
from graph.model import FlaggedWallets, Services
from kyt.errors import KytError

SETS = {"behaviour": behaviour.NAMES, "legacy": features.NAMES}
DEFAULT = "behaviour"
ARTEFACT = ("in_count", "out_count", "age_days", "span_days", "idle_days", "per_day")
"""Features that measure how a crawl sampled an address (how busy, how old), not what it does: a model on them
alone is the check that the behaviour model learns something else."""


def names_of(feature_set: str) -> tuple[str, ...]:
    """The feature names of a set, or KytError naming the sets."""
    if feature_set not in SETS:
        raise KytError(f"no feature set {feature_set!r} (sets: {', '.join(SETS)})")
    return SETS[feature_set]


def set_of(names: tuple[str, ...]) -> str | None:
    """The set whose every feature a model reads (a model may read a part of one set), else None."""
    for name, members in SETS.items():
        if names and set(names) <= set(members):
            return name
    return None


def compute(names: tuple[str, ...], index: InboundIndex, addresses: pa.Array, *, as_of: int,
            services: Services | None = None, flagged: FlaggedWallets | None = None) -> np.ndarray:
    """The named features of the addresses, in the order named."""
    chosen = set_of(names)
    if chosen is None:
        raise KytError(f"features {', '.join(names)} are not all of one feature set")
    make = behaviour.behaviour_features if chosen == "behaviour" else features.address_features
    matrix = make(index, addresses, as_of, services=services, flagged=flagged)
    columns = [SETS[chosen].index(name) for name in names]
    return matrix[:, columns]
