"""Score a deposits file end to end: read and check every input, decide, collect evidence, write the outputs.

`score` hands a `ScoreResult` (kyt.record) to its caller and writes nothing; `write` puts
the asked-for files in place together (kyt.outputs); `run` does both. Opening cases is
the caller's step between the two (the command line composes kyt, then cases).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping, Protocol

import numpy as np

from graph import readers
from graph.errors import InputError
from graph.exposure import Exposures
from graph.model import Deposits, FlaggedWallets, Services
from kyt.decide import DECISIONS, Decisions, decide
from kyt.errors import InputsRejected, KytError
from kyt import engine_choice, outputs, risk, sender_risk
from kyt.record import Decided, ScoreResult, Snapshot
from kyt.rules import CATEGORIES, Policy, default_policy, load_policy

MICROS_PER_DAY = 86_400 * 1_000_000


class Progress(Protocol):
    """Where a long run reports how far it is; `stage` starts a step of `total` units."""

    def stage(self, name: str, total: int | None = None) -> None: ...

    def advance(self, amount: int) -> None: ...


class Quiet:
    """A Progress that shows nothing."""

    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass


@dataclass(frozen=True)
class ScoreRequest:
    """Everything `kyt score` was asked to do; `as_of` in microseconds since 1970 (UTC)."""

    deposits: Path
    transfers: Path
    flagged: Path
    as_of: int
    services: Path | None = None
    method: str = "haircut"
    lookback_days: int | None = None
    rules: Path | None = None
    out: Path | None = None
    exposures_out: Path | None = None
    evidence_out: Path | None = None
    since: int | None = None
    """Only deposits at or after this time (microseconds) are scored (re-screening)."""
    first_row: int = 0
    """Only the deposits from this row of the file on are scored (watching a growing file)."""
    model: Path | None = None
    """An address-risk model: senders at or above its threshold with no rule matching go to review."""
    engine: str = "auto"
    """memory, pruned, spark, or auto: memory or pruned by the size of the transfers (see kyt.engines)."""
    spark_master: str = "local[*]"
    """Where the spark engine runs: local[N] or spark://HOST:PORT."""
    evidence: str = "frozen"
    """Whose evidence to collect: "frozen" (the deposits cases will open for) or "none"; all with evidence_out."""


def file_digest(path: Path | None) -> str:
    """sha256 of a file's bytes ('' for no file)."""
    if path is None:
        return ""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def make_snapshot(policy: Policy, request: ScoreRequest, model: str = "") -> Snapshot:
    """The snapshot of a request: policy and list digests, method, window, as-of time (and the model's version
    and file digest)."""
    as_of = datetime.fromtimestamp(request.as_of / 1e6, tz=timezone.utc).isoformat().replace("+00:00", "Z")
    parts = dict(policy_name=policy.name, policy_version=policy.version, policy_digest=policy.digest,
                 flagged_digest=file_digest(request.flagged), services_digest=file_digest(request.services),
                 method=request.method, lookback_days=request.lookback_days, as_of=as_of)
    if model:
        parts["model"] = model
        parts["model_digest"] = file_digest(request.model)
    ident = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]
    return Snapshot(id=ident, **parts)


def read_inputs(steps: list[tuple[str, Path | None, Callable]], progress: Progress | None = None) -> dict[str, object]:
    """Read and check each (name, path, reader) whose path is given; all their problems are reported together."""
    errors: list[InputError] = []
    loaded = _read(steps, progress or Quiet(), errors)
    if errors:
        raise InputsRejected(errors)
    return loaded


def _read(steps: list[tuple[str, Path | None, Callable]], progress: Progress, errors: list[InputError]) -> dict:
    """read_inputs, adding the problems to `errors` instead of raising them."""
    loaded: dict[str, object] = {}
    for name, path, reader in steps:
        if path is None:
            continue
        progress.stage(f"reading {name}")
        try:
            loaded[name] = reader(path)
        except InputError as error:
            errors.append(error)
    return loaded


def _load(request: ScoreRequest, progress: Progress, *, whole_transfers: bool,
          decided: Decided | None) -> tuple[dict[str, object], int]:
    """Read and check every input file of a request, and keep the deposits still to score; how many were skipped.

    The whole transfers table is read only when it is wanted and some deposit is left to
    score; the problems of all the files are reported together.
    """
    errors: list[InputError] = []
    loaded = _read([("deposits", request.deposits, readers.read_deposits),
                    ("flagged", request.flagged, readers.read_flagged),
                    ("services", request.services, readers.read_services)], progress, errors)
    skipped = 0
    if "deposits" in loaded:
        deposits: Deposits = loaded["deposits"]  # type: ignore[assignment]
        if request.first_row:
            deposits = deposits.slice(min(request.first_row, len(deposits)), len(deposits))
        if request.since is not None:
            deposits = deposits.take(np.flatnonzero(deposits.timestamp >= request.since))
        if decided is not None:
            pending = decided.undecided(deposits)
            skipped = len(deposits) - len(pending)
            deposits = deposits.take(pending) if skipped else deposits
        loaded["deposits"] = deposits
    if whole_transfers and ("deposits" not in loaded or len(loaded["deposits"])):  # type: ignore[arg-type]
        loaded |= _read([("transfers", request.transfers, readers.read_transfers)], progress, errors)
    if errors:
        raise InputsRejected(errors)
    return loaded, skipped


@dataclass(frozen=True)
class Setup:
    """What a request decides under, loaded once: the policy, the address-risk model (or None), the snapshot."""

    policy: Policy
    model: risk.RiskModel | None
    snapshot: Snapshot


def prepare(request: ScoreRequest) -> Setup:
    """Load the policy and the model of `request` and name its snapshot (lists, method, window, as-of time)."""
    policy = load_policy(request.rules) if request.rules else default_policy()
    model = sender_risk.checked(risk.load(request.model)) if request.model else None
    return Setup(policy, model, make_snapshot(policy, request, model.version if model else ""))


def snapshot_of(request: ScoreRequest) -> Snapshot:
    """The snapshot `score` will decide `request` under (policy, lists, method, window, as-of time, model)."""
    return prepare(request).snapshot


def score(request: ScoreRequest, progress: Progress | None = None, *, setup: Setup | None = None,
          decided: Decided | None = None) -> ScoreResult:
    """Read and check the inputs of `request`, score and decide its deposits, collect the evidence it asks for.

    Nothing is written: `write` writes the files, and the caller decides what else happens
    with the result (cases opens the frozen ones). `setup` is `prepare(request)` when the
    caller has it already. Deposits in `decided` (what an earlier run under the same
    snapshot decided) are left out and counted in `ScoreResult.skipped`.
    """
    progress = progress or Quiet()
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    setup = setup or prepare(request)
    policy, model, snapshot = setup.policy, setup.model, setup.snapshot
    if decided is not None and decided.snapshot_id != snapshot.id:
        raise KytError(f"the decided deposits given are those of snapshot {decided.snapshot_id}, and this run's "
                       f"snapshot is {snapshot.id}")
    outputs.check_outputs([p for p in (request.out, request.exposures_out, request.evidence_out) if p is not None])
    kind = engine_choice.choose(request.engine, request.transfers, needs_whole=model is not None)
    loaded, skipped = _load(request, progress, whole_transfers=kind == "memory", decided=decided)
    deposits: Deposits = loaded["deposits"]  # type: ignore[assignment]
    flagged: FlaggedWallets = loaded["flagged"]  # type: ignore[assignment]
    services: Services | None = loaded.get("services")  # type: ignore[assignment]
    seconds["read"] = time.perf_counter() - clock

    clock = time.perf_counter()
    lookback = request.lookback_days * MICROS_PER_DAY if request.lookback_days is not None else None
    categories = list(CATEGORIES) + list(policy.categories)
    engine = engine_choice.build(kind, request, deposits=deposits, flagged=flagged, services=services,
                                 transfers=loaded.pop("transfers", None), categories=categories, lookback=lookback,
                                 progress=progress)
    del loaded
    seconds["index"] = time.perf_counter() - clock
    try:
        result = _decide(request, engine, deposits=deposits, flagged=flagged, services=services, policy=policy,
                         model=model, snapshot=snapshot, seconds=seconds, progress=progress)
    finally:
        engine.close()
    result.skipped = skipped
    return result


def run(request: ScoreRequest, progress: Progress | None = None) -> ScoreResult:
    """Score the deposits of `request` and write the files it asks for (no cases: see `score`)."""
    result = score(request, progress)
    write(request, result, progress=progress)
    return result


def write(request: ScoreRequest, result: ScoreResult, *, progress: Progress | None = None,
          case_ids: Mapping[str, int] | None = None) -> None:
    """Write the files `request` asks for, all in place together; `case_ids` fills the decisions' case_id."""
    clock = time.perf_counter()
    (progress or Quiet()).stage("writing results")
    result.written = outputs.write_outputs(result, out=request.out, exposures_out=request.exposures_out,
                                           evidence_out=request.evidence_out, case_ids=case_ids)
    result.seconds["write"] = time.perf_counter() - clock


def decide_loaded(request: ScoreRequest, engine, *, deposits: Deposits, flagged: FlaggedWallets,
                  services: Services | None, setup: Setup) -> ScoreResult:
    """Decisions, exposures and evidence for `deposits` on an engine that is already loaded (kyt serve)."""
    return _decide(request, engine, deposits=deposits, flagged=flagged, services=services, policy=setup.policy,
                   model=setup.model, snapshot=setup.snapshot, seconds={}, progress=Quiet())


def _decide(request: ScoreRequest, engine, *, deposits: Deposits, flagged: FlaggedWallets,
            services: Services | None, policy: Policy, model, snapshot: Snapshot, seconds: dict[str, float],
            progress: Progress) -> ScoreResult:
    """Exposures, decisions and evidence of a run whose inputs are read and whose engine is ready."""
    clock = time.perf_counter()
    progress.stage("scoring deposits", len(deposits))
    exposures = engine.score(deposits, progress.advance)
    seconds["score"] = time.perf_counter() - clock
    clock = time.perf_counter()
    decisions = decide(exposures, len(deposits), policy)
    seconds["decide"] = time.perf_counter() - clock
    assessed = None
    if model is not None:
        clock = time.perf_counter()
        progress.stage("address risk of the senders")
        decisions, assessed = sender_risk.apply(decisions, model, engine.index, deposits=deposits, as_of=request.as_of,
                                                services=services, flagged=flagged)
        seconds["model"] = time.perf_counter() - clock

    result = ScoreResult(deposits, exposures, decisions, snapshot, seconds, risk=assessed, engine=engine.name)
    result.warnings += _warnings(policy, flagged, exposures)
    wanted = _evidence_positions(request, exposures, decisions)
    if len(wanted):
        clock = time.perf_counter()
        progress.stage("collecting evidence")
        result.evidence = dict(zip(wanted.tolist(), engine.evidence(deposits, exposures, wanted)))
        seconds["evidence"] = time.perf_counter() - clock
    return result


def _evidence_positions(request: ScoreRequest, exposures: Exposures, decisions: Decisions) -> np.ndarray:
    """The exposures whose evidence the run needs: all with --evidence-out, else the frozen deposits' (or none)."""
    if request.evidence_out:
        return np.arange(len(exposures))
    if request.evidence == "frozen":
        return np.flatnonzero(decisions.code[exposures.deposit] == DECISIONS.index("freeze"))
    return np.empty(0, dtype=np.int64)


def _warnings(policy: Policy, flagged: FlaggedWallets, exposures: Exposures) -> list[str]:
    """What the person running the batch should know about the policy and the lists."""
    warnings = []
    known = set(CATEGORIES) | set(policy.categories)
    covered = {r.category for r in policy.rules}
    unknown = sorted(set(flagged.categories()) - known)
    if unknown:
        warnings.append(f"categories in the flagged list that the policy does not know: {', '.join(unknown)}")
    incomplete = int(np.count_nonzero(exposures.incomplete))
    if incomplete and not any(r.unpriced for r in policy.rules):
        warnings.append(f"{incomplete} exposures involve values without a USD price and no rule of the policy"
                        " has unpriced = true, so only rules with thresholds of 0 can act on them")
    if "*" not in covered:
        idle = sorted(set(flagged.categories()) - covered)
        if idle:
            warnings.append(f"no rule acts on these flagged categories: {', '.join(idle)}")
    return warnings
