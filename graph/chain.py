"""An Ethereum JSON-RPC node over HTTP: batched requests, retries with backoff, clear errors.

The wire format is JSON-RPC 2.0 posted with requests (proxies, TLS and .netrc as the
environment says, read once) and decoded with orjson. web3's HTTP provider does the same
thing, but importing web3 8 costs over a second per command (eth-account's BLS tables) and
its per-request path more CPU than the node's answer on a local node; web3 drives the node
in the tests and benchmarks.

>>> Backoff(tries=4, first=0.5).delays()
[0.5, 1.0, 2.0]
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

import orjson

from graph.errors import ChainError
from graph.redaction import scrubbed

RETRYABLE_CODES = {-32005, -32603, 429}
"""Limit exceeded, internal error, too many requests: worth another try."""
MISSING_METHOD = -32601
POOL = 256
"""Connections kept alive to the node: more than the requests ever in flight at once (at most 32 workers)."""
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


class _Http:
    """JSON-RPC posts to one URL over a kept-alive session; the environment's settings are read once."""

    def __init__(self, url: str, timeout: float) -> None:
        import requests  # imported when a node is used: `kyt` commands without one start faster
        import requests.adapters
        from requests.utils import get_netrc_auth

        self.url, self.session = url, requests.Session()
        pooled = requests.adapters.HTTPAdapter(pool_maxsize=POOL)  # one kept-alive connection per thread in flight
        self.session.mount("http://", pooled)
        self.session.mount("https://", pooled)
        settings = self.session.merge_environment_settings(url, {}, None, None, None)  # *_PROXY, NO_PROXY, CA bundle
        self.session.auth = get_netrc_auth(url)
        self.session.trust_env = False  # resolved above, not again on every request
        self.session.headers["Content-Type"] = "application/json"
        self.options = {"timeout": timeout, "proxies": settings["proxies"], "verify": settings["verify"],
                        "cert": settings["cert"], "stream": True}
        self.ids = itertools.count(1)

    def request(self, method: str, params: list) -> dict:
        """One JSON-RPC request, with the next id."""
        return {"jsonrpc": "2.0", "method": method, "params": params, "id": next(self.ids)}

    def post(self, payload: dict | list[dict]) -> Any:
        """The node's decoded answer to one request or a batch of them."""
        with self.session.post(self.url, data=orjson.dumps(payload), **self.options) as response:
            response.raise_for_status()
            raw = response.raw.read(decode_content=True)  # at once: requests' .content reads 10 kB at a time
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise _Retryable(f"the node's answer is not JSON: {raw[:120]!r}") from None


class Node:
    """A node at `url`; every call retries transient failures and raises ChainError with the reason."""

    def __init__(self, url: str, *, timeout: float = 30.0, backoff: Backoff = Backoff(),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url = url
        self.http = _Http(url, timeout)
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
            except Exception as error:  # noqa: BLE001 - transport errors of requests, reported below
                last = f"{error.__class__.__name__}: {error}"
            if delay is None:
                break
            self.sleep(delay)
        message = f"{self.url}: {what} failed after {self.backoff.tries} tries: {last}"
        raise NodeUnavailable(scrubbed(message, self.url))  # no key of the URL in a message

    def call(self, method: str, params: list) -> Any:
        """One request's result."""
        def send() -> Any:
            return _result(self.http.post(self.http.request(method, params)), method)
        return self._attempt(send, method)

    def batch(self, method: str, many: list[list]) -> list[Any]:
        """The results of one method called with each params list, in one batched request."""
        if not many:
            return []

        def send() -> list[Any]:
            answers = self.http.post([self.http.request(method, params) for params in many])
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
