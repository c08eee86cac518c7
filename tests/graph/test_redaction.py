"""Redaction: no password or key of a URL reaches a message, whatever the password holds."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import assume, given, settings, strategies as st

from graph.chain import Backoff, Node
from graph.errors import ChainError
from graph.redaction import HIDDEN, redacted_url, scrubbed

SECRET = st.text(st.characters(codec="ascii", exclude_characters="\x00"), min_size=6, max_size=30)


@settings(max_examples=200, deadline=None)
@given(password=SECRET, user=st.text("abcdefgh", min_size=1, max_size=8))
def test_a_database_password_never_shows(password, user):
    url = f"postgresql://{user}:{quote(password, safe='')}@db.internal:5432/cases"
    assume(quote(password, safe="") not in f"could not connect to postgresql://{user}:***@db.internal:5432/cases")
    shown = redacted_url(url)
    assert shown == f"postgresql://{user}:{HIDDEN}@db.internal:5432/cases"
    assert scrubbed(f"could not connect to {url}", url) == f"could not connect to {shown}"


@pytest.mark.parametrize("url, shown", [
    ("https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef", "https://mainnet.infura.io/v3/***"),
    ("https://eth-mainnet.g.alchemy.com/v2/AbCdEfGhIjKlMnOpQrStUv/", "https://eth-mainnet.g.alchemy.com/v2/***/"),
    ("http://127.0.0.1:8545?key=abc&x=1", "http://127.0.0.1:8545?key=***&x=***"),
    ("http://rpc:pass@[::1]:8545/", "http://rpc:***@[::1]:8545/"),
    ("sqlite:////var/lib/freezecase/cases-with-a-long-name.db", "sqlite:////var/lib/freezecase/cases-with-a-long-name.db"),
    ("http://h:99999/", HIDDEN),  # no valid port: nothing of it is shown
])
def test_urls_as_shown(url, shown):
    assert redacted_url(url) == shown


def test_an_unreachable_node_is_named_without_its_key():
    key = "0123456789abcdef0123456789abcdef"
    node = Node(f"http://127.0.0.1:9/v3/{key}", timeout=1, backoff=Backoff(tries=1))
    with pytest.raises(ChainError) as failed:
        node.chain_id()
    assert key not in str(failed.value) and "127.0.0.1:9/v3/***" in str(failed.value)
