"""An Ethereum JSON-RPC node through web3: batched requests, retries with backoff, clear errors.

>>> Backoff(tries=4, first=0.5).delays()
[0.5, 1.0, 2.0]
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from graph.errors import ChainError

RETRYABLE_CODES = {-32005, -32603, 429}
"""Limit exceeded, internal error, too many requests: worth another try."""
MISSING_METHOD = -32601
TOO_LARGE = re.compile(r"more than|block range|range (is )?too|too (many results|large|wide)|size exceed"
                       r"|limited to .*(block|range|result)", re.I)
"""How providers word a log query that asks for too much (e.g. -32005 'query returned more than 10000 results')."""
RATE_LIMITED = re.compile(r"rate|too many requests|request count|per second|capacity|throttl", re.I)
"""How they word a request refused for now (asking again later helps; asking for less does not)."""


@dataclass(frozen=True)
class Backoff:
    """How often and how patiently to retry a failed request."""

    tries: int = 6
    first: float = 0.5
    cap: float = 8.0

    def delays(self) -> list[float]:
        return [min(self.first * 2 ** i, self.cap) for i in range(self.tries - 1)]


class MethodMissing(ChainError):
    """The node does not offer a JSON-RPC method (the caller may fall back to another)."""


class RangeTooLarge(ChainError):
    """The node refuses a log query as too large (too many results or blocks): ask for less."""


class NodeUnavailable(ChainError):
    """The node did not answer usefully after every retry (as opposed to answering with a refusal)."""


class Node:
    """A node at `url`; every call retries transient failures and raises ChainError with the reason."""

    def __init__(self, url: str, timeout: float = 30.0, backoff: Backoff = Backoff(),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        from web3 import Web3

        self.url = url
        # web3's own retries are off: ours are the only ones, so their count and waits are what we say
        self.provider = Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None)
        self.backoff, self.sleep = backoff, sleep

    def _attempt(self, send: Callable[[], Any], what: str) -> Any:
        last = "no answer"
        for delay in self.backoff.delays() + [None]:
            try:
                return send()
            except ChainError:  # the node answered, and the answer will not change: no retry
                raise
            except _Retryable as error:
                last = str(error)
            except Exception as error:  # noqa: BLE001 - transport errors of requests/web3, reported below
                last = f"{error.__class__.__name__}: {error}"
            if delay is None:
                break
            self.sleep(delay)
        raise NodeUnavailable(f"{self.url}: {what} failed after {self.backoff.tries} tries: {last}")

    def call(self, method: str, params: list) -> Any:
        """One request's result."""
        def send() -> Any:
            return _result(self.provider.make_request(method, params), method)
        return self._attempt(send, method)

    def batch(self, method: str, many: list[list]) -> list[Any]:
        """The results of one method called with each params list, in one batched request."""
        if not many:
            return []

        def send() -> list[Any]:
            answers = self.provider.make_batch_request([(method, params) for params in many])
            if isinstance(answers, dict):  # the node answered the whole batch with one error
                _result(answers, method)
                raise _Retryable(f"{method}: the node answered a batch with {answers!r}")
            if len(answers) != len(many):
                raise _Retryable(f"{method}: {len(answers)} answers to {len(many)} requests")
            ordered = sorted(answers, key=lambda a: a.get("id", 0))
            return [_result(answer, method) for answer in ordered]
        return self._attempt(send, f"{method} x{len(many)}")

    def chain_id(self) -> int:
        return int(self.call("eth_chainId", []), 16)

    def head(self) -> int:
        return int(self.call("eth_blockNumber", []), 16)


class _Retryable(Exception):
    pass


def _result(answer: dict, method: str) -> Any:
    error = answer.get("error") if isinstance(answer, dict) else None
    if error:
        code = error.get("code")
        if code == MISSING_METHOD:
            raise MethodMissing(f"the node does not offer {method}")
        message = str(error.get("message", ""))
        if method == "eth_getLogs" and TOO_LARGE.search(message) and not RATE_LIMITED.search(message):
            raise RangeTooLarge(f"{method}: {message} ({code})")
        if code in RETRYABLE_CODES:
            raise _Retryable(f"{method}: {error.get('message')} ({code})")
        raise ChainError(f"{method}: the node refused: {error.get('message')} ({code})")
    return answer.get("result")
