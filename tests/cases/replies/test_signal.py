"""The learned second signal: current with its corpus, reproducible, calibrated, and never clearing a blocked text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases.errors import InvalidRequest
from cases.replies import signal, signal_training
from cases.replies.linter import LintContext, lint

ROOT = Path(__file__).resolve().parents[3]
CORPORA = [ROOT / "cases" / "replies" / "signal_corpus", ROOT / "tests" / "cases" / "replies" / "corpus"]
ROWS = signal_training.read_corpus(CORPORA)
SHIPPED = signal.load()


def test_the_shipped_model_was_trained_on_the_corpus_as_it_is():
    assert SHIPPED is not None
    assert SHIPPED.corpus_sha256 == signal_training.corpus_hash(ROWS), "retrain: kyt reply signal train --out " \
                                                                         "cases/replies/signal.json"


def test_training_again_gives_the_shipped_model():
    again = signal_training.train(ROWS, max_safe_held=SHIPPED.figures["max_safe_held"])
    assert again.threshold == SHIPPED.threshold
    assert again.vocabulary == SHIPPED.vocabulary
    assert max(abs(a - b) for a, b in zip(again.coef, SHIPPED.coef)) < 1e-5


def test_a_quarter_is_held_out_in_every_language_and_the_figures_are_measured_there():
    held = [r for r in ROWS if signal_training.held_out(r)]
    assert 0.2 < len(held) / len(ROWS) < 0.3
    assert {r["locale"] for r in held} == {"en", "it", "fr", "es", "de", "pt"}
    figures = SHIPPED.figures["held_out"]
    assert figures["all"]["lines"] == len(held)
    assert figures["all"]["roc_auc"] >= 0.95 and figures["all"]["brier"] <= 0.1


def test_it_holds_a_paraphrase_the_rules_let_through_and_says_which_words_weighed():
    text = "Between us, the people we have to tell about deposits like yours already know."
    assert lint(text, LintContext(learned=False)).status == "clean"
    verdict = lint(text, LintContext())
    assert verdict.status == "warn"
    [finding] = verdict.findings
    assert finding.rule_id == "signal.learned" and finding.category == "learned_signal"
    assert "the words that weighed most" in finding.reason
    reasons = SHIPPED.reasons(text)
    assert reasons and all(r.weight > 0 for r in reasons)
    assert [r.weight for r in reasons] == sorted((r.weight for r in reasons), reverse=True)
    assert all(r.word in text.lower() for r in reasons)


def test_a_message_outside_a_hold_is_not_held_by_it():
    text = "Between us, the people we have to tell about deposits like yours already know."
    assert lint(text, LintContext(hold=False)).status == "clean"


SEVERITY = {"clean": 0, "warn": 1, "blocked": 2}
PIECES = [r["text"] for r in ROWS[::7]] + ["We filed a SAR.", "Your deposit is under review.", "Lazarus"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=3), st.booleans())
def test_the_signal_never_clears_what_the_rules_find(pieces, hold):
    text = " ".join(pieces)
    rules = lint(text, LintContext(hold=hold, learned=False))
    both = lint(text, LintContext(hold=hold))
    assert SEVERITY[both.status] >= SEVERITY[rules.status]
    assert set(rules.findings) <= set(both.findings)
    assert {f.rule_id for f in both.findings} - {f.rule_id for f in rules.findings} <= {"signal.learned"}


def test_a_model_file_of_another_format_or_broken_is_refused(tmp_path):
    data = SHIPPED.to_dict()
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**data, "format": 99}), encoding="utf-8")
    with pytest.raises(InvalidRequest, match="another format"):
        signal.load(other)
    short = tmp_path / "short.json"
    short.write_text(json.dumps({**data, "coef": data["coef"][:3]}), encoding="utf-8")
    with pytest.raises(InvalidRequest, match="differ in length"):
        signal.load(short)
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(InvalidRequest, match="cannot read"):
        signal.load(broken)
    assert signal.load(tmp_path / "none.json") is None


def test_a_corpus_line_without_its_fields_is_named(tmp_path):
    (tmp_path / "x.jsonl").write_text('{"id": "a", "locale": "en"}\n', encoding="utf-8")
    with pytest.raises(InvalidRequest, match=r"x.jsonl:1: missing label, category, context, text"):
        signal_training.read_corpus([tmp_path])
    with pytest.raises(InvalidRequest, match="between 0 and 1"):
        signal_training.train(ROWS, max_safe_held=1.5)


def test_the_features_are_those_scikit_learn_computes():
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=signal.NGRAMS, lowercase=False, sublinear_tf=True,
                          vocabulary=SHIPPED.vocabulary)
    vec.idf_ = np.asarray(SHIPPED.idf)
    texts = [r["text"] for r in ROWS[::40]] + ["a", "Ünïcode  spaces\tand\nlines", ""]
    matrix = vec.transform([signal.prepared(t) for t in texts])
    for row, text in enumerate(texts):
        expected = {int(i): float(v) for i, v in zip(matrix[row].indices, matrix[row].data)}
        mine = SHIPPED.features(text)
        assert mine.keys() == expected.keys(), text
        assert all(abs(mine[i] - expected[i]) < 1e-9 for i in mine), text
