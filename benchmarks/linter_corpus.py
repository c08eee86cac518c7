"""The tipping-off linter on the labelled corpus: recall on leaks, false blocks on safe text, warnings.

    python benchmarks/linter_corpus.py [--misses]

Each line is linted as a reply in its own language and context (hold or general), with the
corpus's case evidence (tests/cases/replies/corpus/README.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cases.replies.linter import CaseEvidence, LintContext, lint  # noqa: E402

CORPUS = ROOT / "tests" / "cases" / "replies" / "corpus"
HOLDOUT = ROOT / "tests" / "cases" / "replies" / "holdout"
"""Written apart from the linter and the corpus; reported, never tuned to."""
EVIDENCE = CaseEvidence(
    addresses=frozenset({"0x01e2919679362dfbc9ee1644ba9c6da6d6245bb1", "0x098b716b8aaf21512996dc57eb0615e2383e2f96",
                         "0x4f3a120e72c76c22ae802d129f599bfdbc31cb81"}),
    tx_hashes=frozenset({"0x5a1c0e3b9f8d7c6b5a4e3d2c1b0a99887766554433221100ffeeddccbbaa9988",
                         "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"}),
    names=("OFAC SDN: TORNADO CASH (CYBER2, DPRK3)", "OFAC SDN: LAZARUS GROUP (DPRK3)", "Forta: Ronin Bridge Exploiter"),
    categories=("sanctions", "mixer", "stolen_funds"))
"""The evidence of the corpus's case, as the README of the corpus gives it."""


def load(folder: Path) -> list[dict]:
    """Every line of the .jsonl files of a folder, in file order."""
    rows = []
    for path in sorted(folder.glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


SAMPLE = {"customer_name": "Ada", "tracking_number": "FC-7KQ2-9XMD", "deposit_amount": "1.5", "deposit_asset": "ETH",
          "deposit_date": "3 November 2026", "next_update_date": "2 December 2026",
          "support_contact": "support@example.com"}


def approved_texts(locale: str) -> tuple[str, ...]:
    """Every template of a language, both channels, filled with sample values."""
    from cases.replies.templates import CHANNELS, catalog
    return tuple(catalog().render(t, locale, c, values=SAMPLE).body for t in catalog().infos for c in CHANNELS)


def verdicts(rows: list[dict], as_reply: bool = False) -> list[str]:
    """The linter's status for each line; `as_reply` also checks it against the approved templates (free text)."""
    out = []
    for r in rows:
        approved = approved_texts(r["locale"]) if as_reply and r["context"] == "hold" else ()
        context = LintContext(hold=r["context"] == "hold", locale=r["locale"], evidence=EVIDENCE,
                              approved_texts=approved)
        out.append(lint(r["text"], context).status)
    return out


def summary(rows: list[dict], statuses: list[str]) -> dict:
    """Recall, false-block rate and warning catch, overall and per language."""
    out = {}
    for locale in sorted({r["locale"] for r in rows}) + ["all"]:
        pick = [(r, s) for r, s in zip(rows, statuses) if locale in ("all", r["locale"])]
        leaks = [s for r, s in pick if r["label"] == "leak"]
        safe = [s for r, s in pick if r["label"] == "safe"]
        warn = [s for r, s in pick if r["label"] == "warn"]
        out[locale] = {"leaks": len(leaks), "leaks_blocked": leaks.count("blocked"),
                       "safe": len(safe), "safe_blocked": safe.count("blocked"), "safe_warned": safe.count("warn"),
                       "warn_lines": len(warn), "warn_caught": sum(s != "clean" for s in warn)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="print every leak passed and every safe line blocked (development corpus only)")
    args = parser.parse_args()
    for title, folder in (("development corpus", CORPUS), ("held-out set", HOLDOUT)):
        rows = load(folder)
        if not rows:
            print(f"{title}: no lines in {folder}")
            continue
        started = time.perf_counter()
        statuses = verdicts(rows)
        elapsed = time.perf_counter() - started
        print(f"{title} ({folder.relative_to(ROOT)}):")
        for locale, s in summary(rows, statuses).items():
            warned = f"; warn lines caught {s['warn_caught']}/{s['warn_lines']}" if s["warn_lines"] else ""
            print(f"  {locale:>3}: recall {s['leaks_blocked']}/{s['leaks']} = {s['leaks_blocked'] / s['leaks']:.1%}; "
                  f"false blocks {s['safe_blocked']}/{s['safe']} = {s['safe_blocked'] / s['safe']:.1%} "
                  f"(+{s['safe_warned']} warned){warned}")
        print(f"  {len(rows)} lines linted in {elapsed:.2f} s ({len(rows) / elapsed:,.0f} lines/s)")
        replies = verdicts(rows, as_reply=True)
        leaks = [s for r, s in zip(rows, replies) if r["label"] == "leak"]
        safe = [s for r, s in zip(rows, replies) if r["label"] == "safe" and r["context"] == "hold"]
        print(f"  as agents' edits of a reply on a case (free text far from every template needs approval): "
              f"{leaks.count('clean')} of {len(leaks)} leaks would go out unreviewed "
              f"({leaks.count('blocked')} blocked, {leaks.count('warn')} held); "
              f"{safe.count('warn')} of {len(safe)} safe hold lines held for approval")
        if args.misses and folder == CORPUS:  # never the held-out set's: nobody tunes to it
            _misses(rows, statuses)


def _misses(rows: list[dict], statuses: list[str]) -> None:
    for row, status in zip(rows, statuses):
        if (row["label"] == "leak" and status != "blocked") or (row["label"] == "safe" and status == "blocked") \
                or (row["label"] == "warn" and status == "clean"):
            print(f"    {row['id']} [{row['category']}, {row['context']}] -> {status}: {row['text']}")


if __name__ == "__main__":
    main()
