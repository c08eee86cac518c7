"""`kyt requests` as an analyst uses it: add a request naming the fixture hack's transaction, list it, answer it."""

from __future__ import annotations

from tests.ui.test_cases_cli import FIXTURES, db, run  # noqa: F401 (db is a fixture)

KYBERSWAP_EXPLOIT = "0xe1fbc1d527ca03fe4f554cc005138a49917294f6c1996ff9e867f1386dc45928"
INPUTS = ("--transfers", FIXTURES / "scenario" / "transfers.csv", "--deposits", FIXTURES / "scenario" / "deposits.csv",
          "--services", FIXTURES / "lists" / "services.csv")


def test_a_request_naming_the_fixture_hack_finds_the_deposit_and_is_answered(db):  # noqa: F811
    added = run("requests", "add", "--reference", "KS-2026-1", "--requester", "KyberSwap security", "--kind",
                "protocol", "--deadline", "2099-01-01T00:00:00Z", "--tx", KYBERSWAP_EXPLOIT, *INPUTS, user="ann", db=db)
    assert added.returncode == 0, added.stderr
    assert "the funds reached 1 deposit(s); 1 case(s) opened" in added.stderr
    assert "D-1009" in added.stdout and "300.00" in added.stdout and "10.0000%" in added.stdout
    listed = run("requests", "list", user="ann", db=db)
    assert "KS-2026-1" in listed.stdout and "open" in listed.stdout
    answered = run("requests", "respond", "1", "--template", "funds_frozen", user="ann", db=db)
    assert answered.returncode == 0 and "Re: KS-2026-1" in answered.stdout
    again = run("requests", "add", "--reference", "KS-2026-1", "--requester", "x", "--deadline", "2099-01-01",
                "--tx", KYBERSWAP_EXPLOIT, *INPUTS, user="ann", db=db)
    assert again.returncode == 1 and "already a request 'KS-2026-1'" in again.stderr


def test_a_request_with_nothing_named_or_a_bad_wallet_is_refused(db):  # noqa: F811
    empty = run("requests", "add", "--reference", "X-1", "--requester", "x", "--deadline", "2099-01-01", *INPUTS,
                user="ann", db=db)
    assert empty.returncode == 1 and "names transactions" in empty.stderr
    bad = run("requests", "add", "--reference", "X-2", "--requester", "x", "--deadline", "2099-01-01", "--since",
              "2026-01-01", "--wallet", "tron:TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLrf", *INPUTS, user="ann", db=db)
    assert bad.returncode == 1 and "base58check" in bad.stderr
    support = run("requests", "list", user="sue", db=db)
    assert support.returncode == 1
