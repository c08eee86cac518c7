"""The screening API's routes: health, deposits, reload; every answer JSON, every refusal a clear status.

401 without a valid key, 403 outside its scope, 429 over its rate, 422 naming the field
(or the item) of a bad body, 500 with no traceback. Every call a route answers or refuses
is logged by key name (ui.api.calls; NO_KEY when it sent none valid); a deposit that opens a case or an alert does so as
`system:api:<key name>`, in the audit trail.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Union

from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from cases import api_screening, freeze_requests, withdrawals
from cases.errors import CaseError
from cases.request_deposits import known_deposits
from cases.api_models import ApiKey
from cases.db import Store
from graph import chains
from graph.errors import GraphError, InputError
from graph.readers import deposits_from_rows
from graph.times import iso_micro
from kyt import freeze_trace
from kyt.errors import KytError
from kyt.screening import Screener
from ui.api.access import Keys, Refusal, token_of
from ui.api.calls import BatchWriter, Recent
from ui.api.support_routes import add_support_routes
from ui.messages import render
from ui.api.withdrawal_body import WithdrawalBatch, WithdrawalIn, checked

MAX_BATCH = 1_000
"""The most deposits one call may screen."""
NO_KEY = "(no valid key)"
"""The call log's key name for a call refused without a valid key."""
log = logging.getLogger("kyt.serve")


class DepositIn(BaseModel):
    """One deposit, with the fields of a deposits.csv row (docs/formats.md)."""

    model_config = ConfigDict(extra="forbid")
    deposit_id: str = Field(min_length=1, max_length=200)
    tx_hash: str = Field(min_length=1, max_length=200)
    customer_id: str = Field(min_length=1, max_length=200)
    timestamp: Union[str, int] = Field(description="ISO-8601 or unix seconds")
    block_number: int = Field(ge=0)
    position: int = Field(ge=0)
    from_address: str = Field(min_length=1, max_length=200)
    to_address: str = Field(min_length=1, max_length=200)
    asset: str = Field(min_length=1, max_length=100)
    amount: Union[str, float, int] = Field(description="decimal text (exact), or a number")
    usd_value: Union[str, float, int, None] = Field(default=None, description="empty or null: no price (unknown)")
    chain: str = Field(default="ethereum", max_length=40)


class RequestIn(BaseModel):
    """A freeze request (docs/api.md): who asks, by when, and the transactions or wallets of the stolen funds."""

    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=1, max_length=100)
    requester: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="authority", pattern="^(authority|protocol)$")
    deadline: datetime
    tx_hashes: list[str] = Field(default_factory=list, max_length=10_000)
    wallets: list[str] = Field(default_factory=list, max_length=10_000)
    since: datetime | None = None
    hops: int = Field(default=3, ge=1, le=6)


class DepositBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deposits: list[DepositIn] = Field(min_length=1, max_length=MAX_BATCH)


@dataclass
class ApiState:
    """What the routes share: the database, the loaded screener, the keys, the call log, the batch's decisions."""

    store: Store
    screener: Screener
    keys: Keys
    calls: BatchWriter
    deposit_answers: BatchWriter
    """Allowed deposits' answers, written in batches (api_screening.store_answers)."""
    withdrawal_answers: BatchWriter
    """Allowed withdrawals' answers, written in batches (withdrawals.store_allowed)."""
    batch_decided: dict[str, tuple[str, str]] = field(default_factory=dict)
    screened_withdrawals: set[str] | None = None
    """The withdrawal ids the database has answers for (only this server writes them): only those are looked up.
    None: look every id up."""
    recent_deposits: Recent = field(default_factory=Recent)
    recent_withdrawals: Recent = field(default_factory=Recent)
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    lock: threading.Lock = field(default_factory=threading.Lock)


def create_app(state: ApiState) -> FastAPI:
    """The FastAPI application over `state` (OpenAPI docs at /docs)."""
    app = FastAPI(title="freezecase screening API", version="1",
                  description="Deposits and withdrawals screened against the flagged-wallet lists, with the same "
                              "records and cases as `kyt score`. See docs/api.md.")

    def answer(request: Request, key_name: str, status: int, *, body: object, subject: str | None = None,
               path: str | None = None, headers: dict | None = None) -> JSONResponse:
        state.calls.add({"key_name": key_name[:80], "method": request.method[:10],
                         "path": (path or logged_path(request.url.path))[:200], "status": status,
                         "subject": subject[:200] if subject else None, "at": state.now()})
        return JSONResponse(body, status_code=status, headers=headers)

    def caller(request: Request) -> str:
        """The name of the key a refused call sent, or NO_KEY."""
        token = token_of(request.headers.get("authorization"), request.headers.get("x-api-key"))
        return state.keys.name_of(token) or NO_KEY

    def allowed(scope: str, authorization: str | None, x_api_key: str | None) -> ApiKey:
        return state.keys.check(token_of(authorization, x_api_key), scope)

    @app.exception_handler(Refusal)
    def refused(request: Request, error: Refusal) -> JSONResponse:
        headers = {"Retry-After": f"{max(1, round(error.retry_after))}"} if error.retry_after else None
        if error.status == 401:
            headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
        return answer(request, error.key_name or NO_KEY, error.status, body={"detail": error.message},
                      headers=headers)

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [{"loc": [str(part) for part in e["loc"]], "msg": e["msg"]} for e in error.errors()[:50]]
        return answer(request, caller(request), 422, body={"detail": problems})

    @app.exception_handler(Exception)
    def failed(request: Request, error: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, logged_path(request.url.path))
        try:
            name = caller(request)
        except Exception:  # noqa: BLE001 - the keys may be what failed: the call is still logged
            name = NO_KEY
        return answer(request, name, 500, body={"detail": "the server could not answer this call; it is logged"})

    @app.get("/v1/health")
    def health() -> dict:
        """Whether the API is up, and what it screens with (no key needed)."""
        loaded = state.screener.loaded
        return {"status": "ok", "snapshot_id": loaded.setup.snapshot.id, "transfers": loaded.transfers,
                "as_of": iso_micro(loaded.request.as_of), "loaded_at": loaded.loaded_at.isoformat()}

    @app.post("/v1/deposits/screen")
    async def screen_deposits(body: Union[DepositBatch, DepositIn], request: Request, *,
                        authorization: str | None = Header(None), x_api_key: str | None = Header(None)) -> JSONResponse:
        """Screen one deposit (a deposits.csv row as JSON) or a batch (`{"deposits": [...]}`): the same record as
        `kyt score`, with `case_id` when it froze; the same answer for a deposit already screened or decided."""
        key = allowed("deposits:screen", authorization, x_api_key)
        rows = [d.model_dump() for d in body.deposits] if isinstance(body, DepositBatch) else [body.model_dump()]
        subject = rows[0]["deposit_id"] if len(rows) == 1 else f"{len(rows)} deposits"
        ids = [r["deposit_id"] for r in rows]
        repeated = [{"loc": ["body", "deposits", n, "deposit_id"], "msg": f"duplicate deposit_id {d!r}"}
                    for n, d in enumerate(ids) if d in ids[:n]]
        if repeated:
            return answer(request, key.name, 422, body={"detail": repeated}, subject=subject)
        known = _known_deposits(state, ids)
        fresh = [n for n, deposit_id in enumerate(ids) if deposit_id not in known]
        try:  # only what is to be scored is parsed: a retry is answered from what is known
            deposits = deposits_from_rows([rows[n] for n in fresh], where="body") if fresh else None
        except InputError as error:
            problems = [{"loc": (["body", "deposits", fresh[p.line - 1]] if isinstance(body, DepositBatch)
                                 else ["body"]) + _field(p.message), "msg": p.message} for p in error.problems]
            return answer(request, key.name, 422, body={"detail": problems}, subject=subject)
        answers = _screen(state, deposits, key_name=key.name, ids=ids, known=known)
        out = [_shown(a, evidence=key.allows("evidence:read")) for a in answers]
        return answer(request, key.name, 200, body=out[0] if isinstance(body, DepositIn) else {"deposits": out},
                      subject=subject)

    @app.post("/v1/withdrawals/screen")
    async def screen_withdrawals(body: Union[WithdrawalBatch, WithdrawalIn], request: Request, *,
                           authorization: str | None = Header(None),
                           x_api_key: str | None = Header(None)) -> JSONResponse:
        """Screen a withdrawal's destination before sending (or a batch, `{"withdrawals": [...]}`): block, review or
        allow under the withdrawal rules, with the rules, categories and the destination's exposures; a held one
        (block or review) is an alert for an analyst; the same answer for a withdrawal already screened."""
        key = allowed("withdrawals:screen", authorization, x_api_key)
        items = body.withdrawals if isinstance(body, WithdrawalBatch) else [body]
        subject = items[0].withdrawal_id if len(items) == 1 else f"{len(items)} withdrawals"
        rows, problems = [], []
        for n, item in enumerate(items):
            values, found = checked(item)
            rows.append(values)
            where = ["body", "withdrawals", n] if isinstance(body, WithdrawalBatch) else ["body"]
            problems += [{"loc": where + [field], "msg": message} for field, message in found]
        ids = [row["withdrawal_id"] for row in rows]
        problems += [{"loc": ["body", "withdrawals", n, "withdrawal_id"], "msg": f"withdrawal_id {i!r} repeated"}
                     for n, i in enumerate(ids) if i in ids[:n]]
        if problems:
            return answer(request, key.name, 422, body={"detail": problems}, subject=subject)
        out = _screen_withdrawals(state, rows, key_name=key.name)
        return answer(request, key.name, 200, body=out[0] if isinstance(body, WithdrawalIn) else {"withdrawals": out},
                      subject=subject)

    @app.post("/v1/requests")
    def add_request(body: RequestIn, request: Request, *, authorization: str | None = Header(None),
                    x_api_key: str | None = Header(None)) -> JSONResponse:
        """Record a freeze request, trace its funds forward through the loaded transfers to the deposits the
        database knows, and open or link a freeze case for each deposit reached."""
        key = allowed("requests:write", authorization, x_api_key)
        now = state.now()
        deadline, since = (_utc(t) for t in (body.deadline, body.since))
        try:
            seeds = freeze_trace.parse_seeds(body.reference, tx_hashes=body.tx_hashes, wallets=body.wallets,
                                             hops=body.hops, since=int(since.timestamp() * 1e6) if since else None)
            deposits = deposits_from_rows(known_deposits(state.store), where="the database's deposits")
            loaded = state.screener.loaded
            hits, snapshot = freeze_trace.trace(seeds, loaded.table, deposits, services=loaded.services, now=now)
            actor = "system:api:" + key.name
            made = freeze_requests.add(state.store, actor, reference=body.reference, requester=body.requester,
                                       kind=body.kind, deadline=deadline, tx_hashes=seeds.tx_hashes,
                                       wallets=seeds.wallets, since=since, hops=body.hops, now=now)
            linked = freeze_requests.link(state.store, actor, made.id, hits=hits, snapshot=snapshot, now=now)
        except IntegrityError:  # a concurrent call recorded the same reference first
            return answer(request, key.name, 422, subject=body.reference, body={"detail": [
                {"loc": ["body", "reference"], "msg": f"there is already a request {body.reference!r}"}]})
        except (KytError, CaseError, GraphError) as error:
            return answer(request, key.name, 422, body={"detail": [{"loc": ["body"], "msg": render(error)}]},
                          subject=body.reference)
        reached = [{"deposit_id": h.record.deposit_id, "customer_id": h.record.customer_id, "hop": h.hop,
                    "stolen_usd": format(h.stolen_usd, "f"), "value_unknown": h.unknown,
                    "case_id": linked.case_ids[h.record.deposit_id]} for h in hits]
        return answer(request, key.name, 200, subject=body.reference,
                      body={"request_id": made.id, "reference": made.reference, "deposits": reached,
                            "cases_opened": linked.opened, "snapshot_id": snapshot.id})

    add_support_routes(app, state, answer=answer, allowed=allowed)

    @app.post("/v1/admin/reload")
    def reload(request: Request, *, authorization: str | None = Header(None),
               x_api_key: str | None = Header(None)) -> JSONResponse:
        """Read the transfers, lists and policy again (as of now) and swap them in; decisions name the new snapshot."""
        key = allowed("lists:reload", authorization, x_api_key)
        clock = time.perf_counter()
        now = state.now()
        loaded = state.screener.reload(as_of=int(now.timestamp() * 1_000_000), now=now)
        state.batch_decided = api_screening.batch_decisions(state.store)
        return answer(request, key.name, 200, body={"snapshot_id": loaded.setup.snapshot.id,
                                                   "transfers": loaded.transfers,
                                                   "seconds": round(time.perf_counter() - clock, 3)})

    return app


def _known_deposits(state: ApiState, ids: list[str]) -> dict[str, dict]:
    """What is already known of these deposits: answered lately (memory), kept, or decided by the batch."""
    known = {d: {**a, "replayed": True} for d in ids if (a := state.recent_deposits.get(d)) is not None}
    rest = [d for d in ids if d not in known]
    known.update(api_screening.known(state.store, rest) if rest else {})
    for deposit_id in ids:
        if deposit_id not in known and deposit_id in state.batch_decided:
            decision, snapshot_id = state.batch_decided[deposit_id]
            known[deposit_id] = {"deposit_id": deposit_id, "decision": decision, "rule_ids": [], "categories": [],
                                 "snapshot_id": snapshot_id, "case_id": None, "replayed": True,
                                 "detail": "decided by a batch run, which keeps no more of an allowed deposit"}
    return known


def _screen(state: ApiState, deposits, *, key_name: str, ids: list[str], known: dict[str, dict]) -> list[dict]:
    """Answers in the order asked: known ones as they were, the rest (`deposits`, parsed) scored now."""
    scored: dict[str, dict] = {}
    if deposits is not None and len(deposits):
        result = state.screener.screen(deposits)
        now = state.now()
        for record in api_screening.keep(state.store, result, key_name=key_name, now=now):
            scored[record["deposit_id"]] = {**record, "replayed": False}
            if record["decision"] == "allow":  # nothing else changed: its answer is kept in the next batch
                state.recent_deposits.put(record["deposit_id"], record)
                state.deposit_answers.add({"deposit_id": record["deposit_id"], "record": record, "case_id": None,
                                           "key_name": key_name, "screened_at": now})
    return [known.get(deposit_id) or scored[deposit_id] for deposit_id in ids]


def _screen_withdrawals(state: ApiState, rows: list[dict], *, key_name: str) -> list[dict]:
    """Answers in the order asked: withdrawals already screened as they were, the rest decided now and kept."""
    known = {r["withdrawal_id"]: {**a, "replayed": True} for r in rows
             if (a := state.recent_withdrawals.get(r["withdrawal_id"])) is not None}
    rest = [row["withdrawal_id"] for row in rows if row["withdrawal_id"] not in known and (
        state.screened_withdrawals is None or row["withdrawal_id"] in state.screened_withdrawals)]
    known.update(withdrawals.known(state.store, rest) if rest else {})
    fresh = [row for row in rows if row["withdrawal_id"] not in known]
    if fresh:
        now = state.now()
        if state.screened_withdrawals is not None:  # from now on, a retry is looked up
            state.screened_withdrawals.update(row["withdrawal_id"] for row in fresh)
        decided = state.screener.screen_withdrawals([chains.wallet_key(r["chain"], r["address"]) for r in fresh],
                                                    as_of=int(now.timestamp() * 1_000_000))
        answers = [{**row, "decision": d.action, "rule_ids": d.rule_ids, "categories": d.categories,
                    "exposures": d.exposures, "snapshot_id": d.snapshot_id} for row, d in zip(fresh, decided)]
        held = [a for a in answers if a["decision"] in withdrawals.HELD]
        for kept in withdrawals.keep(state.store, held, key_name=key_name, now=now):
            known[kept["withdrawal_id"]] = kept
        for answer in (a for a in answers if a["decision"] not in withdrawals.HELD):
            shown = {**answer, "alert_id": None}
            state.recent_withdrawals.put(answer["withdrawal_id"], shown)
            state.withdrawal_answers.add({"answer": answer, "key_name": key_name, "screened_at": now})
            known[answer["withdrawal_id"]] = {**shown, "replayed": False}
    return [known[row["withdrawal_id"]] for row in rows]


def logged_path(path: str) -> str:
    """A call's path as the call log keeps it: a survey's token (a secret) is never written.

    >>> logged_path("/v1/surveys/abc123"), logged_path("/v1/deposits/screen")
    ('/v1/surveys/{token}', '/v1/deposits/screen')
    """
    return "/v1/surveys/{token}" if path.startswith("/v1/surveys/") else path


def _utc(moment: datetime | None) -> datetime | None:
    """A time from a body, in UTC (a time without a zone is UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _field(message: str) -> list[str]:
    """The field a reader's message is about (its first word), when it names one."""
    word = message.split(" ", 1)[0].rstrip(":")
    return [word] if word in DepositIn.model_fields else []


def _shown(answer: dict, *, evidence: bool) -> dict:
    """An answer as a key sees it: the evidence (flagged sources) only with the evidence:read scope."""
    if evidence or "exposures" not in answer:
        return answer
    return {**answer, "exposures": [{k: v for k, v in e.items() if k != "evidence"} for e in answer["exposures"]]}
