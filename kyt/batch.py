"""Score a deposits file end to end: read and check every input, decide, then write the outputs.

Nothing is written until every input has been read and checked and every decision made;
the outputs appear together (each written to a temporary file, then renamed).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from graph import evidence, readers
from graph.errors import InputError
from graph.exposure import Exposures
from graph.model import Deposits, FlaggedWallets, Services
from graph.money import share_texts, usd_texts
from kyt.decide import DECISIONS, Decisions, decide, joined_names
from kyt.errors import InputsRejected, OutputError
from kyt import engine_choice, risk, sender_risk
from kyt.rules import CATEGORIES, Policy, default_policy, load_policy
from kyt.sender_risk import SenderRisk

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


@dataclass(frozen=True)
class Snapshot:
    """The policy and list versions a decision was made with; `id` names the combination."""

    id: str
    policy_name: str
    policy_version: str
    policy_digest: str
    flagged_digest: str
    services_digest: str
    method: str
    lookback_days: int | None
    as_of: str
    model: str = ""
    """The address-risk model's version, when one took part."""


@dataclass
class ScoreResult:
    """What a scoring run produced, for the caller to show or to turn into cases."""

    deposits: Deposits
    exposures: Exposures
    decisions: Decisions
    snapshot: Snapshot
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    evidence: list[dict] = field(default_factory=list)
    """Evidence of the frozen deposits' exposures (when cases are to be opened)."""
    case_ids: dict[int, int] | None = None
    """deposit index -> case id, filled by the `open_cases` step of `run`."""
    risk: SenderRisk | None = None
    """The senders' address risk, when a model took part."""
    engine: str = ""
    """Which engine computed the exposures, in words (e.g. "pruned scan: 1,204 of 10,000,000 transfers read")."""


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
    """The snapshot of a request: policy and list digests, method, window, as-of time (and model version)."""
    as_of = datetime.fromtimestamp(request.as_of / 1e6, tz=timezone.utc).isoformat().replace("+00:00", "Z")
    parts = dict(policy_name=policy.name, policy_version=policy.version, policy_digest=policy.digest,
                 flagged_digest=file_digest(request.flagged), services_digest=file_digest(request.services),
                 method=request.method, lookback_days=request.lookback_days, as_of=as_of)
    if model:
        parts["model"] = model
    ident = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]
    return Snapshot(id=ident, **parts)


def read_inputs(steps: list[tuple[str, Path | None, Callable]], progress: Progress | None = None) -> dict[str, object]:
    """Read and check each (name, path, reader) whose path is given; all their problems are reported together."""
    progress = progress or Quiet()
    errors: list[InputError] = []
    loaded: dict[str, object] = {}
    for name, path, reader in steps:
        if path is None:
            continue
        progress.stage(f"reading {name}")
        try:
            loaded[name] = reader(path)
        except InputError as error:
            errors.append(error)
    if errors:
        raise InputsRejected(errors)
    return loaded


def _load(request: ScoreRequest, progress: Progress, whole_transfers: bool):
    """Read and check every input file of a request (the transfers only when the whole table is wanted)."""
    return read_inputs([("deposits", request.deposits, readers.read_deposits),
                        ("flagged", request.flagged, readers.read_flagged),
                        ("services", request.services, readers.read_services),
                        ("transfers", request.transfers if whole_transfers else None, readers.read_transfers)],
                       progress)


def run(request: ScoreRequest, progress: Progress | None = None,
        open_cases: Callable[[ScoreResult], dict[int, int]] | None = None) -> ScoreResult:
    """Score the deposits of `request`, decide, open cases (when given a way to), write the outputs.

    `open_cases` receives the result, with the evidence of every frozen deposit, and returns
    the case id of each frozen deposit; those ids go in the `case_id` column of `--out`.
    """
    progress = progress or Quiet()
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    policy = load_policy(request.rules) if request.rules else default_policy()
    model = sender_risk.checked(risk.load(request.model)) if request.model else None
    check_outputs([p for p in (request.out, request.exposures_out, request.evidence_out) if p is not None])
    kind = engine_choice.choose(request.engine, request.transfers, needs_whole=model is not None)
    loaded = _load(request, progress, whole_transfers=kind == "memory")
    deposits: Deposits = loaded["deposits"]  # type: ignore[assignment]
    if request.first_row:
        deposits = deposits.slice(min(request.first_row, len(deposits)), len(deposits))
    if request.since is not None:
        deposits = deposits.take(np.flatnonzero(deposits.timestamp >= request.since))
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
        return _finish(request, engine, deposits=deposits, flagged=flagged, services=services, policy=policy,
                       model=model, seconds=seconds, progress=progress, open_cases=open_cases)
    finally:
        engine.close()


def _finish(request: ScoreRequest, engine, *, deposits: Deposits, flagged: FlaggedWallets,
            services: Services | None, policy: Policy, model, seconds: dict[str, float], progress: Progress,
            open_cases: Callable[[ScoreResult], dict[int, int]] | None) -> ScoreResult:
    """Exposures, decisions, cases and outputs of a run whose inputs are read and whose engine is ready."""
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
        decisions, assessed = sender_risk.apply(decisions, model, engine.index, deposits, request.as_of, services,
                                                flagged)
        seconds["model"] = time.perf_counter() - clock

    result = ScoreResult(deposits, exposures, decisions,
                         make_snapshot(policy, request, model.version if model else ""), seconds, risk=assessed,
                         engine=engine.name)
    result.warnings += _warnings(policy, flagged, exposures)
    found: list[evidence.Evidence] | None = None
    if request.evidence_out:  # every exposure's evidence, computed once for the file and the cases
        clock = time.perf_counter()
        progress.stage("collecting evidence")
        found = engine.evidence(deposits, exposures)
        seconds["evidence"] = time.perf_counter() - clock
    if open_cases is not None:
        clock = time.perf_counter()
        progress.stage("opening cases")
        frozen = np.flatnonzero(np.isin(exposures.deposit, np.flatnonzero(decisions.code == DECISIONS.index("freeze"))))
        chosen = [found[i] for i in frozen.tolist()] if found is not None else engine.evidence(deposits, exposures,
                                                                                                frozen)
        result.evidence = [e.to_dict() for e in chosen]
        result.case_ids = open_cases(result)
        seconds["cases"] = time.perf_counter() - clock

    clock = time.perf_counter()
    progress.stage("writing results")
    outputs = []
    if request.out:
        outputs.append((request.out, lambda path: write_decisions(result, path)))
    if request.exposures_out:
        outputs.append((request.exposures_out, lambda path: write_exposures(result, path)))
    if request.evidence_out:
        outputs.append((request.evidence_out, lambda path: write_evidence(result, found, path)))
    result.written = write_together(outputs)
    seconds["write"] = time.perf_counter() - clock
    return result


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


def check_outputs(targets: list[Path]) -> None:
    """OutputError unless the targets are distinct paths that are not directories."""
    if len({t.resolve() for t in targets}) < len(targets):
        raise OutputError("two outputs name the same file: " + ", ".join(str(t) for t in targets))
    for target in targets:
        if target.is_dir():
            raise OutputError(f"{target} is a directory, not a file to write")


def write_together(outputs: list[tuple[Path, Callable[[Path], None]]]) -> list[Path]:
    """Write each output beside its target, then put them all in place; on failure none has changed.

    Targets that exist are set aside first and restored if any step fails.
    """
    targets = [target for target, _ in outputs]
    check_outputs(targets)
    token = secrets.token_hex(4)
    staged = [(target.with_name(f".{target.name}.{token}.partial"), target) for target in targets]
    kept = [(target, target.with_name(f".{target.name}.{token}.previous")) for target in targets if target.exists()]
    placed: list[Path] = []
    try:
        for (temporary, target), (_, write) in zip(staged, outputs):
            target.parent.mkdir(parents=True, exist_ok=True)
            write(temporary)
        for target, previous in kept:
            os.replace(target, previous)
        for temporary, target in staged:
            os.replace(temporary, target)
            placed.append(target)
    except BaseException:
        for target in placed:
            target.unlink(missing_ok=True)
        for target, previous in kept:
            if previous.exists():
                os.replace(previous, target)
        raise
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
    for _, previous in kept:
        previous.unlink(missing_ok=True)
    return targets


def categories_text(exposures: Exposures, n: int) -> np.ndarray:
    """Per deposit, the categories it is exposed to (alphabetical, at any hop) joined by ';'."""
    return joined_names(exposures.deposit, exposures.category, exposures.categories, n)


def write_decisions(result: ScoreResult, path: Path) -> None:
    """One row per deposit: deposit_id, customer_id, decision, rule_ids, categories, snapshot_id, and with a
    model risk_probability and risk_features (for the deposits reviewed or frozen); case_id when cases open."""
    n = len(result.deposits)
    table = pa.table({
        "deposit_id": result.deposits.deposit_id,
        "customer_id": result.deposits.customer_id,
        "decision": pa.array(np.array(DECISIONS, dtype=object)[result.decisions.code]),
        "rule_ids": pa.array(result.decisions.rule_texts, pa.string()),
        "categories": pa.array(categories_text(result.exposures, n), pa.string()),
        "snapshot_id": pa.array([result.snapshot.id] * n, pa.string()),
    })
    if result.risk is not None:
        rounded = pa.array(np.round(result.risk.probability, 4), pa.float64())
        table = table.append_column("risk_probability", pc.cast(rounded, pa.string()))
        reasons = np.full(n, "", dtype=object)
        for d, found in result.risk.explained.items():
            reasons[d] = ";".join(f"{name}:+{weight:g}" for name, weight in found)
        table = table.append_column("risk_features", pa.array(reasons, pa.string()))
    if result.case_ids is not None:
        case_id = np.full(n, "", dtype=object)
        case_id[list(result.case_ids)] = [str(v) for v in result.case_ids.values()]
        table = table.append_column("case_id", pa.array(case_id, pa.string()))
    write_table_csv(table, path)


def write_table_csv(table: pa.Table, path: Path) -> None:
    """Write a table of text as CSV, quoting only when some value needs it."""
    needs = any(pc.any(pc.match_substring_regex(table.column(name), r'[,"\r\n]')).as_py()
                for name in table.column_names if pa.types.is_string(table.column(name).type))
    with path.open("wb") as handle:
        handle.write((",".join(table.column_names) + "\n").encode())
        pcsv.write_csv(table, handle, write_options=pcsv.WriteOptions(
            include_header=False, quoting_style="needed" if needs else "none"))


def exposure_table(result: ScoreResult, rows: np.ndarray | None = None) -> pa.Table:
    """deposit_id, category, hop, share, usd, unpriced_transfers, unpriced_flagged_transfers per exposure.

    Share and USD are exact decimal text, empty when unknown (no price); the counts say how
    many transfers of unknown value the funding (hop 2) and its flagged part hold.
    """
    e = result.exposures if rows is None else result.exposures.take(rows)
    den = np.where(e.share_known, e.share_den, 1)
    return pa.table({
        "deposit_id": result.deposits.deposit_id.take(pa.array(e.deposit)),
        "category": pa.array(np.array(e.categories, dtype=object)[e.category] if len(e) else [], pa.string()),
        "hop": pa.array(e.hop, pa.int64()),
        "share": pc.if_else(pa.array(e.share_known), share_texts(e.share_num, den), ""),
        "usd": pc.if_else(pa.array(e.usd_known), usd_texts(e.value, e.share_num, den), ""),
        "unpriced_transfers": pa.array(e.unpriced_total, pa.int64()),
        "unpriced_flagged_transfers": pa.array(e.unpriced_flagged, pa.int64()),
    })


def exposure_rows(result: ScoreResult) -> list[tuple]:
    """The rows of `exposure_table` as tuples."""
    table = exposure_table(result)
    return list(zip(*(table.column(name).to_pylist() for name in table.column_names)))


def write_exposures(result: ScoreResult, path: Path) -> None:
    """One row per exposure (see `exposure_table`)."""
    write_table_csv(exposure_table(result), path)


def write_evidence(result: ScoreResult, found: list[evidence.Evidence], path: Path) -> None:
    """JSON lines: one evidence record per exposure, with the snapshot id."""
    with path.open("w", encoding="utf-8") as handle:
        for item in found:
            record = item.to_dict()
            record["snapshot_id"] = result.snapshot.id
            handle.write(json.dumps(record) + "\n")


def snapshot_dict(snapshot: Snapshot) -> dict:
    """The snapshot as a plain dict (the model only when one took part, as in the id's hash)."""
    found = asdict(snapshot)
    if not found["model"]:
        del found["model"]
    return found
