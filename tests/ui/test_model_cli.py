"""`kyt model` as a real process: train, evaluate, show, train-triage and rank; bad inputs are messages."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kyt.learning_world import write_world

KYT = Path(sys.executable).parent / "kyt"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture(autouse=True)
def case_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cases.db'}")


def kyt(*args):
    return subprocess.run([str(KYT), *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})


def test_train_evaluate_and_show_a_model(tmp_path):
    transfers, labels = write_world(tmp_path, per_class=60)
    model = tmp_path / "model.joblib"
    trained = kyt("model", "train", "--transfers", transfers, "--labels", labels, "--out", model)
    assert trained.returncode == 0, trained.stderr
    said = " ".join(trained.stdout.split())  # the console wraps long lines
    assert "held out: the labels' test split" in said and "busy unlisted addresses" in said
    evaluated = kyt("model", "evaluate", "--model", model, "--transfers", transfers, "--labels", labels, "--json")
    figures = json.loads(evaluated.stdout)
    assert figures["rows_from"] == "split 'test'" and figures["rows"] == 40 and figures["roc_auc"] > 0.9
    shown = json.loads(kyt("model", "show", model).stdout)
    assert shown["version"] == figures["model"] and "fan_in" in shown["features"] and "age_days" not in shown["features"]


def test_bad_labels_and_a_foreign_model_file_are_messages(tmp_path):
    transfers, _ = write_world(tmp_path, per_class=20)
    bad = tmp_path / "bad.csv"
    bad.write_text("address,label\n0x12,1\n")
    done = kyt("model", "train", "--transfers", transfers, "--labels", bad, "--out", tmp_path / "m.joblib")
    assert done.returncode == 1 and f"{bad}:2: address '0x12' is not an address" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "m.joblib").exists()
    foreign = tmp_path / "foreign.joblib"
    foreign.write_text("hello")
    done = kyt("score", FIXTURES / "scenario" / "deposits.csv", "--transfers", transfers, "--flagged",
               FIXTURES / "lists" / "flagged.csv", "--model", foreign, "--no-cases")
    assert done.returncode == 1 and "not a model file of this tool" in done.stderr
    done = kyt("model", "show", foreign)  # shows the description beside a model; never unpickles
    assert done.returncode == 1 and "no description beside the model file" in done.stderr
    done = kyt("model", "train", "--transfers", transfers, "--labels", bad, "--out", tmp_path / "nowhere" / "m.joblib")
    assert done.returncode == 1 and "does not exist: make the folder first" in done.stderr


def test_score_with_a_model_adds_the_risk_columns_and_triage_starts_cold(tmp_path):
    transfers, labels = write_world(tmp_path, per_class=60)
    model = tmp_path / "model.joblib"
    assert kyt("model", "train", "--transfers", transfers, "--labels", labels, "--out", model).returncode == 0
    scenario = FIXTURES / "scenario"
    done = kyt("score", scenario / "deposits.csv", "--transfers", scenario / "transfers.csv",
               "--flagged", FIXTURES / "lists" / "flagged.csv", "--as-of", "2026-11-20", "--out", tmp_path / "out.csv",
               "--model", model)
    assert done.returncode == 0, done.stderr
    version = json.loads(kyt("model", "show", model).stdout)["version"]
    assert f"address-risk model {version}" in done.stderr  # the snapshot names the model
    rows = list(csv.DictReader((tmp_path / "out.csv").open()))
    assert all(0 <= float(r["risk_probability"]) <= 1 for r in rows)
    assert all(r["decision"] != "freeze" or "address-risk-model" not in r["rule_ids"] for r in rows)
    cold = kyt("model", "train-triage", "--out", tmp_path / "triage.joblib")  # no users yet: no sign-in
    assert cold.returncode == 1 and "cold start: the queue stays in rule order" in cold.stderr


def test_without_a_split_evaluate_scores_only_what_training_held_out(tmp_path):
    transfers, labels = write_world(tmp_path, per_class=40, split=False)
    model = tmp_path / "model.joblib"
    assert kyt("model", "train", "--transfers", transfers, "--labels", labels, "--out", model).returncode == 0
    figures = json.loads(kyt("model", "evaluate", "--model", model, "--transfers", transfers, "--labels", labels,
                             "--json").stdout)
    assert figures["rows_from"] == "the 24 addresses the model held out in training" and figures["rows"] == 24
    shown = json.loads(kyt("model", "show", model).stdout)
    assert shown["metrics"]["held_out"]["rows"] == 24 and shown["held_out_addresses"] == 24
