"""An EVM JSON-RPC node over HTTP through web3's HTTPProvider: batched requests, retries with backoff, clear errors.

Requests go through web3's provider (`make_request`, and `make_batch_request` for a batch)
with one requests session whose proxies, CA bundle and .netrc are read from the
environment once. Answers stay the node's JSON, not web3's formatted objects: the ingestion
reads hex fields itself, and formatting every transaction would cost more CPU than the
node's answer. The provider's own retries are off: `Node` retries transient failures with
exponential backoff and reports a node's refusal at once.

>>> Backoff(tries=4, first=0.5).delays()
[0.5, 1.0, 2.0]
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Callable

import orjson
from web3 import HTTPProvider

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


class JsonRpcProvider(HTTPProvider):
    """web3's HTTPProvider without its own retries, decoding answers with orjson (a non-JSON answer is retried)."""

    @staticmethod
    def decode_rpc_response(raw_response: bytes) -> Any:
        try:
            return orjson.loads(raw_response)
        except orjson.JSONDecodeError:
            raise _Retryable(f"the node's answer is not JSON: {raw_response[:120]!r}") from None


def _session(url: str) -> tuple[Any, dict]:
    """A requests session for web3's provider, with the environment's proxy, CA and .netrc settings read once."""
    import requests
    import requests.adapters
    from requests.utils import get_netrc_auth

    session = requests.Session()
    pooled = requests.adapters.HTTPAdapter(pool_maxsize=POOL)  # one kept-alive connection per thread in flight
    session.mount("http://", pooled)
    session.mount("https://", pooled)
    settings = session.merge_environment_settings(url, {}, None, None, None)  # *_PROXY, NO_PROXY, CA bundle
    session.auth = get_netrc_auth(url)
    session.trust_env = False  # resolved above, not again on every request
    return session, {"proxies": settings["proxies"], "verify": settings["verify"], "cert": settings["cert"]}


class Node:
    """A node at `url`; every call retries transient failures and raises ChainError with the reason."""

    def __init__(self, url: str, *, timeout: float = 30.0, backoff: Backoff = Backoff(),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url = url
        session, options = _session(url)
        self.provider = JsonRpcProvider(url, session=session, exception_retry_configuration=None,
                                        request_kwargs={"timeout": timeout, **options,
                                                        "headers": {"Content-Type": "application/json"}})
        self.backoff, self.sleep = backoff, sleep
        self._chain_id: int | None = None

    def _attempt(self, send: Callable[[], Any], what: str) -> Any:
        last = "no answer"
        for delay in self.backoff.delays() + [None]:
            try:
                return send()
            except ChainError:  # the node answered, and the answer will not change: no retry
                raise
            except _Retryable as error:
                last = str(error)
            except Exception as error:  # noqa: BLE001 - transport errors of requests and web3, reported below
                last = f"{error.__class__.__name__}: {error}"
            if delay is None:
                break
            self.sleep(delay)
        message = f"{self.url}: {what} failed after {self.backoff.tries} tries: {last}"
        raise NodeUnavailable(scrubbed(message, self.url))  # no key of the URL in a message

    def call(self, method: str, params: list) -> Any:
        """One request's result."""
        return self._attempt(lambda: _result(self.provider.make_request(method, params), method), method)

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
            return [_result(answer, method) for answer in answers]  # web3 puts them in the order asked
        return self._attempt(send, f"{method} x{len(many)}")

    def chain_id(self) -> int:
        """The node's chain id (asked once: a node does not change chains under a running ingestion)."""
        if self._chain_id is None:
            self._chain_id = int(self.call("eth_chainId", []), 16)
        return self._chain_id

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
