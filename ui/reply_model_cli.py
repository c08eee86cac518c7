"""`kyt reply parties` and `kyt reply signal`: the listed parties' register and the learned signal, built from data.

The register holds the names no reply about a hold may contain; the signal is the linter's second,
learned check. Both are files the linter reads; both are rebuilt from the lists and the corpus.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from cases.errors import CaseError
from cases.replies.signal import MODEL_FILE
from ui.cli_common import err, fail, out, print_json

signal_app = typer.Typer(no_args_is_help=True, help="The linter's learned second signal: train and measure it.")
ROOT = Path(__file__).resolve().parents[1]
CORPORA = [MODEL_FILE.with_name("signal_corpus"), ROOT / "tests" / "cases" / "replies" / "corpus"]


def parties(flagged: Optional[Path] = typer.Option(None, help="A flagged-wallets list (its `source` column)."),
            services: Optional[Path] = typer.Option(None, help="A services list (its `entity` column)."),
            ofac: Optional[Path] = typer.Option(None, help="An OFAC address history with an `entities` column."),
            out_file: Path = typer.Option(..., "--out", help="The register to write (KYT_PARTIES points at it).")) -> None:
    """Build the register of listed parties' names that block any reply about a hold, from the lists."""
    from cases.replies import parties as listed
    if flagged is None and services is None and ofac is None:
        raise typer.BadParameter("give at least one list", param_hint="--flagged/--services/--ofac")
    try:
        names = listed.from_lists(flagged=flagged, services=services, ofac=ofac)
        count = listed.write(names, out_file)
    except (CaseError, OSError) as error:
        fail(error)
    register = listed.Parties.of(names)
    err.print(f"{count} names ({len(register.phrases)} phrases that block) written to {out_file}", markup=False,
              highlight=False)


@signal_app.command("train")
def train(corpus: Optional[List[Path]] = typer.Option(None, "--corpus", help="A folder of .jsonl lines "
                                                       "(default: the signal corpus and the linter's corpus)."),
          out_file: Path = typer.Option(..., "--out", help="The model file to write."),
          max_safe_held: float = typer.Option(0.10, help="The share of safe replies about a hold the signal may "
                                                         "hold (sets the threshold).")) -> None:
    """Train the signal on all but the held-out quarter of the corpus and print its held-out figures."""
    from cases.replies import signal, signal_training
    if not 0 < max_safe_held < 1:
        raise typer.BadParameter(f"a share between 0 and 1, not {max_safe_held}", param_hint="--max-safe-held")
    try:
        rows = signal_training.read_corpus(list(corpus or CORPORA))
        err.print(f"training on {len(rows)} lines ({sum(not signal_training.held_out(r) for r in rows)} fitted, "
                  f"the rest held out)…", markup=False, highlight=False)
        model = signal_training.train(rows, max_safe_held=max_safe_held)
        signal.save(model, out_file)
    except (CaseError, OSError) as error:
        fail(error)
    _print_figures(model.figures["held_out"], model.threshold)
    _print_reliability(model.figures["reliability"])


@signal_app.command("evaluate")
def evaluate(model_file: Path = typer.Option(MODEL_FILE, "--model", help="The model file (default: the shipped one)."),
             corpus: Optional[List[Path]] = typer.Option(None, "--corpus", help="Folders of .jsonl lines to measure "
                                                         "on (default: the held-out quarter of the training corpus)."),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """The signal's figures: per language, leaks held, safe replies held, ROC-AUC and Brier score."""
    from cases.replies import signal, signal_training
    try:
        model = signal.load(model_file)
        if model is None:
            raise typer.BadParameter(f"no model at {model_file}", param_hint="--model")
        rows = signal_training.read_corpus(list(corpus)) if corpus else \
            [r for r in signal_training.read_corpus(CORPORA) if signal_training.held_out(r)]
        measured = signal_training.measure(model, rows)
    except (CaseError, OSError) as error:
        fail(error)
    if as_json:
        print_json({"threshold": model.threshold, "per_language": measured["held_out"],
                    "reliability": measured["reliability"]})
        return
    _print_figures(measured["held_out"], model.threshold)
    _print_reliability(measured["reliability"])


def _print_figures(figures: dict, threshold: float) -> None:
    out.print(f"holds from probability {threshold:.4f}", markup=False, highlight=False)
    for locale, f in figures.items():
        out.print(f"  {locale:>3}: leaks held {f['leaks_held']}/{f['leaks']}; safe replies about a hold held "
                  f"{f['safe_held']}/{f['safe_hold_lines']}; ROC-AUC {f['roc_auc']}; Brier {f['brier']}",
                  markup=False, highlight=False)


def _print_reliability(bins: list[dict]) -> None:
    out.print("calibration (predicted probability -> observed share of leaks):", markup=False, highlight=False)
    for b in bins:
        out.print(f"  {b['from']:.1f}-{b['to']:.1f}: {b['lines']} lines, mean {b['mean_probability']:.3f}, "
                  f"observed {b['share_leaks']:.3f}", markup=False, highlight=False)
