"""The tipping-off linter on labelled messages: per language and category, leaks blocked or held, safe ones blocked.

    python benchmarks/linter_corpus.py [--misses]

Each line is linted as a reply in its own language and context (hold or general), by the rules
alone and by the rules with the learned signal. The development corpus is what the terms were
written from; the held-out set (tests/cases/replies/holdout) was written apart from them and is
only measured, never tuned to. The case evidence given (tests/cases/replies/corpus/README.md)
only adds supervisors' notes: it never changes a verdict.
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
    return [row for path in sorted(folder.glob("*.jsonl")) for row in load_file(path)]


def load_file(path: Path) -> list[dict]:
    """The lines of one .jsonl file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


SAMPLE = {"customer_name": "Ada", "tracking_number": "FC-7KQ2-9XMD", "deposit_amount": "1.5", "deposit_asset": "ETH",
          "deposit_date": "3 November 2026", "next_update_date": "2 December 2026",
          "support_contact": "support@example.com"}


def approved_texts(locale: str) -> tuple[str, ...]:
    """Every template of a language, both channels, filled with sample values."""
    from cases.replies.templates import CHANNELS, catalog
    return tuple(catalog().render(t, locale, c, values=SAMPLE).body for t in catalog().infos for c in CHANNELS)


def verdicts(rows: list[dict], as_reply: bool = False, learned: bool = True) -> list[str]:
    """The linter's status for each line; `as_reply` also checks it against the approved templates (free text);
    `learned` lets the learned signal hold lines (rules alone without it)."""
    out = []
    for r in rows:
        approved = approved_texts(r["locale"]) if as_reply and r["context"] == "hold" else ()
        context = LintContext(hold=r["context"] == "hold", locale=r["locale"], evidence=EVIDENCE,
                              approved_texts=approved, learned=learned)
        out.append(lint(r["text"], context).status)
    return out


def summary(rows: list[dict], statuses: list[str]) -> dict:
    """Per language: leaks blocked, held and passed; safe lines blocked and held; warn lines caught."""
    out = {}
    for locale in sorted({r["locale"] for r in rows}) + ["all"]:
        pick = [(r, s) for r, s in zip(rows, statuses) if locale in ("all", r["locale"])]
        leaks = [s for r, s in pick if r["label"] == "leak"]
        safe = [s for r, s in pick if r["label"] == "safe"]
        warn = [s for r, s in pick if r["label"] == "warn"]
        out[locale] = {"leaks": len(leaks), "leaks_blocked": leaks.count("blocked"), "leaks_held": leaks.count("warn"),
                       "safe": len(safe), "safe_blocked": safe.count("blocked"), "safe_held": safe.count("warn"),
                       "warn_lines": len(warn), "warn_caught": sum(s != "clean" for s in warn)}
    return out


def by_category(rows: list[dict], statuses: list[str]) -> dict[str, dict[str, tuple[int, int]]]:
    """category -> language -> (leaks blocked or held, leaks)."""
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for r, s in zip(rows, statuses):
        if r["label"] != "leak":
            continue
        caught, total = out.setdefault(r["category"], {}).get(r["locale"], (0, 0))
        out[r["category"]][r["locale"]] = (caught + (s != "clean"), total + 1)
    return out


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} = {part / whole:.1%}" if whole else "—"


def report(title: str, rows: list[dict], learned: bool) -> list[str]:
    """The figures of one set, as printed."""
    started = time.perf_counter()
    statuses = verdicts(rows, learned=learned)
    elapsed = time.perf_counter() - started
    lines = [f"{title}, {'rules + learned signal' if learned else 'rules alone'} "
             f"({len(rows)} lines, {len(rows) / elapsed:,.0f} lines/s):"]
    for locale, s in summary(rows, statuses).items():
        caught = s["leaks_blocked"] + s["leaks_held"]
        warned = f"; warn lines caught {s['warn_caught']}/{s['warn_lines']}" if s["warn_lines"] else ""
        lines.append(f"  {locale:>3}: leaks blocked or held {_share(caught, s['leaks'])} "
                     f"(blocked {s['leaks_blocked']}, held {s['leaks_held']}); "
                     f"safe falsely blocked {_share(s['safe_blocked'], s['safe'])}, held {s['safe_held']}{warned}")
    if learned:
        categories = by_category(rows, statuses)
        locales = sorted({r["locale"] for r in rows})
        lines.append("  leaks blocked or held, by category: " + " | ".join(locales))
        for category, per in sorted(categories.items()):
            cells = [f"{per[lo][0]}/{per[lo][1]}" if lo in per else "—" for lo in locales]
            lines.append(f"    {category:<16} " + " | ".join(cells))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true",
                        help="print every leak passed and every safe line blocked (development corpus only)")
    args = parser.parse_args()
    sets = [("development corpus", CORPUS, load(CORPUS))] + [
        ("held-out set", path, load_file(path)) for path in sorted(HOLDOUT.glob("*.jsonl"))]
    for title, where, rows in sets:
        if not rows:
            print(f"{title}: no lines in {where}")
            continue
        for learned in (False, True):
            print("\n".join(report(f"{title} ({where.relative_to(ROOT)})", rows, learned)))
        replies = verdicts(rows, as_reply=True)
        leaks = [s for r, s in zip(rows, replies) if r["label"] == "leak"]
        safe = [s for r, s in zip(rows, replies) if r["label"] == "safe" and r["context"] == "hold"]
        print(f"  as agents' edits of a reply on a case (free text far from every template needs approval): "
              f"{leaks.count('clean')} of {len(leaks)} leaks would go out unreviewed "
              f"({leaks.count('blocked')} blocked, {leaks.count('warn')} held); "
              f"{safe.count('warn')} of {len(safe)} safe hold lines held for approval")
        if args.misses and where == CORPUS:  # never the held-out set's: nobody tunes to it
            _misses(rows, verdicts(rows))


def _misses(rows: list[dict], statuses: list[str]) -> None:
    for row, status in zip(rows, statuses):
        if (row["label"] == "leak" and status == "clean") or (row["label"] == "safe" and status == "blocked") \
                or (row["label"] == "warn" and status == "clean"):
            print(f"    {row['id']} [{row['category']}, {row['context']}] -> {status}: {row['text']}")


if __name__ == "__main__":
    main()
