"""How a node's error answers are read: retry later, ask for less, or a refusal to report."""

from __future__ import annotations

import pytest

from graph.chain import MethodMissing, RangeTooLarge, _result, _Retryable
from graph.errors import ChainError


def answer(code: int, message: str) -> dict:
    return {"jsonrpc": "2.0", "id": 1, "error": {"code": code, "message": message}}


@pytest.mark.parametrize("message", [
    "query returned more than 10000 results",
    "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range",
    "block range is too wide",
    "eth_getLogs is limited to a 10,000 range",
])
def test_a_log_query_asking_for_too_much_is_asked_for_in_parts(message):
    with pytest.raises(RangeTooLarge):
        _result(answer(-32005, message), "eth_getLogs")


@pytest.mark.parametrize("message", [
    "Too Many Requests",
    "daily request count exceeded, request rate limited",
    "your app has exceeded its compute units per second capacity",
])
def test_a_rate_limit_is_retried_later_not_split(message):
    with pytest.raises(_Retryable):
        _result(answer(-32005, message), "eth_getLogs")


def test_the_same_words_on_other_methods_are_retried_and_other_refusals_reported():
    with pytest.raises(_Retryable):
        _result(answer(-32005, "query returned more than 10000 results"), "eth_getBlockByNumber")
    with pytest.raises(MethodMissing):
        _result(answer(-32601, "the method eth_getBlockReceipts does not exist"), "eth_getBlockReceipts")
    with pytest.raises(ChainError, match="the node refused: invalid params"):
        _result(answer(-32602, "invalid params"), "eth_getLogs")
    assert _result({"jsonrpc": "2.0", "id": 1, "result": "0x1"}, "eth_chainId") == "0x1"
