"""The linter on the labelled development corpus: no leak passes, at most 2% of safe texts blocked per language.

The figures are printed by benchmarks/linter_corpus.py (also for the held-out set, which no
test asserts on, so that nothing tunes the linter to it).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))

import linter_corpus  # noqa: E402
from cases.replies.templates import LOCALES  # noqa: E402


def test_the_corpus_is_big_enough_and_well_formed():
    rows = linter_corpus.load(linter_corpus.CORPUS)
    labels = [r["label"] for r in rows]
    assert labels.count("leak") >= 200 and labels.count("safe") >= 200
    assert {r["locale"] for r in rows} == set(LOCALES)
    assert len({r["id"] for r in rows}) == len(rows)


def test_no_leak_passes_and_false_blocks_stay_under_two_percent():
    rows = linter_corpus.load(linter_corpus.CORPUS)
    statuses = linter_corpus.verdicts(rows)
    passed = [r["id"] for r, s in zip(rows, statuses) if r["label"] == "leak" and s == "clean"]
    assert passed == []
    rules = linter_corpus.verdicts(rows, learned=False)
    leaks = [s for r, s in zip(rows, rules) if r["label"] == "leak"]
    assert leaks.count("blocked") >= 0.99 * len(leaks)  # the rules block; the signal only holds
    for locale in LOCALES:
        safe = [s for r, s in zip(rows, statuses) if r["label"] == "safe" and r["locale"] == locale]
        assert safe.count("blocked") <= 0.02 * len(safe), locale
    assert all(s != "clean" for r, s in zip(rows, statuses) if r["label"] == "warn")
