"""`kyt model`: the learned address-risk model (train, evaluate, show) and the T-EDGE adapter."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from ui.cli_common import AS, DB, fail, micro, utc_now
from ui.identity_cli import signed_in
from ui.messages import HANDLED

model_app = typer.Typer(no_args_is_help=True, help="The learned address-risk model: it ranks and suggests review, "
                                                   "never freezes.")
out = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, soft_wrap=True)
METRICS = ("precision", "recall", "specificity", "f1", "roc_auc", "accuracy", "rows", "positives", "threshold")
HEADERS = ("precision", "recall", "specificity", "F1", "ROC-AUC", "accuracy", "rows", "risky", "threshold")


def _metrics_table(rows: dict[str, dict]) -> Table:
    table = Table("measured on", *HEADERS)
    for name, found in rows.items():
        table.add_row(name, *[f"{found[m]:.3f}" if isinstance(found[m], float) else str(found[m]) for m in METRICS])
    return table


def _calibration_table(bins: list[dict]) -> Table:
    table = Table("probability (time folds)", "addresses", "mean predicted", "observed risky share",
                  title="calibration: does 0.8 mean 8 in 10?")
    for b in bins:
        table.add_row(f"{b['from']:.1f}-{b['to']:.1f}", str(b["rows"]), f"{b['predicted']:.3f}", f"{b['observed']:.3f}")
    return table


def _when(text: Optional[str], option: str) -> Optional[int]:
    return None if text is None else micro(text, option)


@model_app.command("tedge")
def tedge_command(
    folder: Path = typer.Argument(..., help="The T-EDGE folder (edges.csv.gz, nodes_train_test_split.csv.gz)."),
    out_dir: Path = typer.Option(..., help="Where to write transfers.parquet and labels.csv."),
) -> None:
    """Turn the T-EDGE sample (integer ids, aggregated edges) into a transfers file and a labels file."""
    from kyt import tedge

    try:
        transfers, labels, counts = tedge.convert(folder, out_dir)
    except HANDLED as error:
        fail(error)
    err.print(f"wrote {transfers} ({counts['transfers']:,} transfers from {counts['edges']:,} edges) and {labels} "
              f"({counts['labelled']:,} labelled, {counts['phishing']:,} phishing; split {counts['train']:,} train, "
              f"{counts['test']:,} test)", highlight=False)


@model_app.command("train")
def train_command(
    transfers: Path = typer.Option(..., help="Transfers file (CSV or Parquet)."),
    labels: Path = typer.Option(..., help="Labels CSV: address, label (1 risky, 0 normal), optional split (train/test)."),
    out_file: Path = typer.Option(..., "--out", help="Model file to write (a readable .json is written beside it)."),
    flagged: Optional[Path] = typer.Option(None, help="Flagged wallets, for the exposure features."),
    services: Optional[Path] = typer.Option(None, help="Services, for the service-share features."),
    as_of: Optional[str] = typer.Option(None, help="Features from transfers before this time; default: after the last."),
    threshold: float = typer.Option(0.5, min=0.01, max=0.99, help="Probability from which a deposit is reviewed."),
    max_review_share: Optional[float] = typer.Option(None, min=0.001, max=0.5, help="Set the threshold so that "
                                                     "this share of the graph's addresses would be reviewed "
                                                     "(replaces --threshold)."),
    features: str = typer.Option("behaviour", help="Feature set: behaviour (shares and ratios that mean the same "
                                                   "on any crawl) or legacy (adds counts, values and ages)."),
    unlisted_normal: int = typer.Option(10, min=0, help="Addresses of the graph with at least this many transfers, "
                                        "neither labelled nor flagged, train as normal examples, together weighing as much "
                                        "as the labelled normal ones (0: none)."),
    seed: int = typer.Option(0, help="Seed for the folds and the trees."),
) -> None:
    """Train the address-risk model on labelled addresses (the labels' train split, or 70% of them), validated on
    folds that keep neighbourhoods and time apart."""
    from kyt import learning, risk

    try:
        risk.check_output(out_file)
        graph = learning.load_graph(transfers, flagged=flagged, services=services, as_of=_when(as_of, "--as-of"))
        model, how = learning.train(graph, learning.read_labels(labels), threshold=threshold, seed=seed,
                                    source={"transfers": str(transfers), "labels": str(labels)}, now=utc_now(),
                                    feature_set=features, max_review_share=max_review_share,
                                    unlisted_least=unlisted_normal)
        risk.save(model, out_file)
    except HANDLED as error:
        fail(error)
    extra = model.training.get("unlisted_normal", {})
    out.print(f"model {model.version}: trained on {model.training['rows']:,} addresses ({model.training['risky']:,} "
              f"risky, {extra.get('train', 0):,} of the normal ones busy unlisted addresses); held out: {how}; "
              f"threshold {model.threshold}", highlight=False)
    checks = model.metrics.get("validation", {})
    out.print(_metrics_table({"cross-validated (training)": model.metrics["cross_validated"],
                              **{f"{k.replace('_', ' ')} folds": v for k, v in checks.items() if isinstance(v, dict)},
                              **({"held out": model.metrics["held_out"]} if "held_out" in model.metrics else {})}))
    if checks.get("time_calibration"):
        out.print(_calibration_table(checks["time_calibration"]))
    if "held_out_unlisted" in model.metrics:
        seen = model.metrics["held_out_unlisted"]
        out.print(f"held-out busy unlisted addresses: {seen['reviewed']:,} of {seen['rows']:,} would be reviewed "
                  f"(specificity {seen['specificity']:.3f})", highlight=False)
    err.print(f"wrote {out_file} and {out_file.name}.json", highlight=False)


@model_app.command("evaluate")
def evaluate_command(
    model_file: Path = typer.Option(..., "--model", help="Model file from `kyt model train`."),
    transfers: Path = typer.Option(..., help="Transfers file (CSV or Parquet)."),
    labels: Path = typer.Option(..., help="Labels CSV: address, label, optional split."),
    split: Optional[str] = typer.Option(None, help="Evaluate on this split only (default: test if the labels have one)."),
    flagged: Optional[Path] = typer.Option(None, help="Flagged wallets, for the exposure features."),
    services: Optional[Path] = typer.Option(None, help="Services, for the service-share features."),
    as_of: Optional[str] = typer.Option(None, help="Features from transfers before this time; default: the "
                                                   "time the model was trained with."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
) -> None:
    """Precision, recall, F1, accuracy and ROC-AUC of a model on held-out labelled addresses: the split asked
    for, else the labels' test split, else the addresses the model held out in training."""
    from kyt import learning, risk

    try:
        model = risk.load(model_file)
        rows, what = learning.evaluation_rows(model, learning.read_labels(labels), split)
        when = _when(as_of, "--as-of")
        graph = learning.load_graph(transfers, flagged=flagged, services=services,
                                    as_of=when if when is not None else model.training.get("as_of_micro"))
        figures = learning.evaluate(model, graph, rows)
    except HANDLED as error:
        fail(error)
    if as_json:
        out.print_json(json.dumps({"model": model.version, "rows_from": what, **figures}))
        return
    out.print(f"model {model.version} on {what}:", highlight=False)
    out.print(_metrics_table({"held out": figures}))
    spans = [f"{name} {figures[key][0]:.3f}-{figures[key][1]:.3f}" for key, name in (
        ("roc_auc_95", "ROC-AUC"), ("recall_95", "recall"), ("specificity_95", "specificity"),
        ("precision_95", "precision")) if key in figures]
    if spans:
        out.print(f"bootstrap 95% intervals: {', '.join(spans)}", highlight=False)


@model_app.command("show")
def show_command(model_file: Path = typer.Argument(..., help="Model file.")) -> None:
    """What a model holds (version, features, threshold, training, metrics), read from the JSON beside it:
    showing a model never loads it, so it is safe on a file you received."""
    from kyt import risk

    try:
        found = risk.description(model_file)
    except HANDLED as error:
        fail(error)
    out.print_json(json.dumps(found, default=str))


@model_app.command("train-triage")
def train_triage_command(
    out_file: Path = typer.Option(..., "--out", help="Triage model file to write."),
    db: Optional[str] = DB, actor: Optional[str] = AS,
    seed: int = typer.Option(0, help="Seed for the folds and the trees."),
) -> None:
    """Learn, from the decided cases (released or escalated), which cases are likely to be escalated."""
    from cases import triage
    from kyt import risk

    try:
        risk.check_output(out_file)
        model = triage.train(*signed_in(db, actor), utc_now(), seed=seed)
        risk.save(model, out_file)
    except HANDLED as error:
        fail(error)
    out.print(f"triage model {model.version}: {model.training['cases']:,} decided cases, {model.training['risky']:,} "
              "escalated", highlight=False)
    out.print(_metrics_table({"cross-validated": model.metrics["cross_validated"]}))
    err.print(f"wrote {out_file}; `kyt model rank --model {out_file}` orders the open cases with it", highlight=False)


@model_app.command("rank")
def rank_command(
    model_file: Path = typer.Option(..., "--model", help="Triage model file from `kyt model train-triage`."),
    rules_share: float = typer.Option(0.2, min=0.0, max=1.0, help="Share of cases kept in rule order."),
    db: Optional[str] = DB, actor: Optional[str] = AS,
) -> None:
    """Order each deadline day's open cases by the triage model (a share stays in rule order)."""
    from cases import triage
    from kyt import risk

    try:
        done = triage.rank(*signed_in(db, actor), risk.load(model_file), now=utc_now(), share=rules_share)
    except HANDLED as error:
        fail(error)
    out.print(f"ranked {done.ranked:,} open cases with {done.model}: {done.in_model_order:,} in model order, "
              f"{done.in_rule_order:,} kept in rule order; `kyt cases list --order priority` shows them",
              highlight=False)
