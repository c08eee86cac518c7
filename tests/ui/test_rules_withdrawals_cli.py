"""`kyt rules show` and `kyt rules check` list and count the withdrawal rules beside the deposit rules."""

from __future__ import annotations

from tests.kyt.test_rules import RULE
from tests.ui.test_cli import kyt


def test_show_lists_the_withdrawal_rules_and_check_counts_them(tmp_path):
    shown = kyt("rules", "show")
    assert shown.returncode == 0, shown.stderr
    assert "withdrawal rules" in shown.stdout and "sanctioned-destination" in shown.stdout
    good = tmp_path / "rules.toml"
    good.write_text('name = "mine"\nversion = "1"\n' + RULE + '[[withdrawal_rules]]\nid = "w"\ncategory = "sanctions"\n'
                    'kind = "self"\nhop = 0\nmin_share = 0\naction = "block"\n')
    done = kyt("rules", "check", good)
    assert done.returncode == 0 and f"{good}: 1 rules, 1 withdrawal rules, policy mine 1: ok" in done.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text().replace('kind = "self"', 'kind = "itself"'))
    done = kyt("rules", "check", bad)
    assert done.returncode == 1
    assert f"{bad}: withdrawal rule 1 ('w'): unknown kind 'itself'; allowed: self, received, sent" in done.stderr
