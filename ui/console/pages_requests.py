"""Freeze requests in the console: what `kyt requests add | list | respond` does, in the browser.

An authority or a hacked protocol names transactions or wallets of stolen funds. The page
records the request, traces the funds forward through the transfers and services files the
console uses (`state.sources`) to the deposits the database knows (those with a case, an
alert or an API answer, as the API's `POST /v1/requests` does), opens or links a freeze case
for each deposit reached, and records the answer from an approved template
(cases/request_templates.toml). Adding and answering are shown only to the roles that may.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import streamlit as st
from sqlalchemy.exc import IntegrityError

from cases import freeze_requests
from cases.access import may
from cases.errors import InvalidRequest
from cases.request_deposits import known_deposits
from graph import readers
from kyt import batch, freeze_trace
from ui.console import state

DEADLINE_DAYS = 7
"""The deadline the form starts from: a week from today, 17:00 UTC."""
CONFIRMS = ("request_confirm", "answer_confirm")
"""The confirmations, unticked again after what they allowed was done."""


def requests_page() -> None:
    """The recorded requests, newest first; add one (traced and frozen at once) and answer one, as the role may."""
    st.title("Freeze requests")
    if st.session_state.pop("requests_reset", False):
        for key in CONFIRMS:
            st.session_state[key] = False
    role = state.signed()["role"]
    found = None
    with state.shown():
        found = freeze_requests.list_requests(state.store(), state.actor())
    if found is None:
        return
    names = ["Requests"] + (["Add a request"] if may(role, "record_requests") else []) + (
        ["Answer a request"] if may(role, "work_case") else [])
    tabs = dict(zip(names, st.tabs(names, key="requests_tabs", on_change="rerun"))) if len(names) > 1 else {}
    with tabs["Requests"] if tabs else st.container():
        _table(found)
    if "Add a request" in tabs:
        with tabs["Add a request"]:
            _add_form()
    if "Answer a request" in tabs:
        with tabs["Answer a request"]:
            _answer_form(found)


def _usd(value: str | Decimal | None, unknown: bool) -> str:
    """Stolen USD as the priced values give it; "at least" when values without a price stand behind it."""
    if value is None:
        return "unknown (no price)"
    return f"${Decimal(value):,.2f}" + (" at least" if unknown else "")


def _status(request, late: bool) -> str:
    if request.status == "answered":
        return f"answered: {request.response_template.replace('_', ' ')}, {state.when(request.responded_at)}"
    if request.response_template:  # acknowledged: the answer itself is still due
        return ("🔴 overdue" if late else "open") + f", acknowledged {state.when(request.responded_at)}"
    return "🔴 overdue" if late else "open"


def _table(found: list) -> None:
    """Every request: who asked, its deadline, its status, the deposits it reached and their cases."""
    if not found:
        st.caption("No freeze request is recorded yet. An analyst or a supervisor adds one in **Add a request**.")
        return
    moment = state.now()
    rows = []
    for request, hits in found:
        late = request.status == "open" and request.deadline < moment
        rows.append({
            "id": request.id, "reference": request.reference, "requester": request.requester, "kind": request.kind,
            "received": state.when(request.received_at), "deadline": state.when(request.deadline),
            "status": _status(request, late), "deposits": len(hits),
            "deposits reached": "; ".join(f"{h.deposit_id}: case {h.case_id}, hop {h.hop}, "
                                          f"{_usd(h.stolen_usd, h.value_unknown)}" for h in hits) or "none",
            "stolen USD": _usd(sum((Decimal(h.stolen_usd) for h in hits if h.stolen_usd is not None), Decimal(0)),
                               any(h.value_unknown for h in hits)) if hits else "—"})
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_config={"received": st.column_config.TextColumn(help=state.zone_help()),
                                "deadline": st.column_config.TextColumn(help=state.zone_help())})
    _open_case(sorted({h.case_id for _, hits in found for h in hits if h.case_id is not None}), "listed")


def _open_case(case_ids: list[int], where: str) -> None:
    """A way to the case page of one of these cases (when the signed-in role has the case page)."""
    pages = st.session_state.get("pages", {})
    if not case_ids or "case" not in pages:
        return
    choice = st.selectbox("Open a case a request reached", case_ids, key=f"requests_{where}_case",
                          format_func=lambda c: f"case {c}")
    if st.button("Open case", key=f"requests_{where}_open"):
        st.session_state["case_id"] = choice
        st.switch_page(pages["case"], query_params={"case": str(choice)})


def _at(day: date | None, hour: time | None) -> datetime | None:
    """A date and a time of day read as UTC (None without a date)."""
    return None if day is None else datetime.combine(day, hour or time(0), tzinfo=timezone.utc)


def _add_form() -> None:
    """The request's fields, a confirmation (it freezes deposits), then the trace and the cases it opened."""
    sources = state.sources()
    st.caption(f"The funds are traced through {sources['transfers'].name} (stopping at the services in "
               f"{sources['services'].name}) to the deposits the database knows: those with a case, an alert or an "
               "API answer. Deposits the batch allowed are not among them: use `kyt requests add` with the deposits "
               "file for those.")
    left, right = st.columns(2)
    reference = left.text_input("Reference (the requester's; unique here)", key="request_reference")
    requester = right.text_input("Requester (the authority or the protocol, as they sign)", key="request_requester")
    kind = left.selectbox("Kind", freeze_requests.KINDS, key="request_kind", format_func={
        "authority": "authority (police, court, regulator)", "protocol": "protocol (the hacked one)"}.get)
    hops = right.number_input("Hops (steps forward the funds are followed)", min_value=1, max_value=6,
                              value=freeze_trace.DEFAULT_HOPS, step=1, key="request_hops")
    due_day, due_hour = st.columns(2)
    day = due_day.date_input("Deadline: day (UTC)", value=state.now().date() + timedelta(days=DEADLINE_DAYS),
                             key="request_deadline_day")
    hour = due_hour.time_input("Deadline: time (UTC)", value=time(17, 0), key="request_deadline_time")
    tx_text = st.text_area("Transactions of the stolen funds (tx hashes, one per line)", key="request_txs")
    wallet_text = st.text_area("Wallets holding the stolen funds (chain:address or a bare Ethereum address, one per "
                               "line)", key="request_wallets")
    since_day, since_hour = st.columns(2)
    since = _at(since_day.date_input("Wallets: what they sent from this day on is stolen (UTC; needed with wallets)",
                                     value=None, key="request_since_day"),
                since_hour.time_input("Wallets: from this time (UTC)", value=time(0), key="request_since_time"))
    sure = st.checkbox("I confirm: every deposit the funds reached is frozen, and gets a freeze case (or its case "
                       "gets this request) with the request's deadline.", key="request_confirm")
    if st.button("Add the request, trace and freeze", type="primary", disabled=not sure, key="request_add"):
        _add(reference, requester=requester, kind=kind, deadline=_at(day, hour), tx_hashes=tx_text.split(),
             wallets=wallet_text.split(), since=since, hops=int(hops))
    _reached()


def _add(reference: str, *, requester: str, kind: str, deadline: datetime | None, tx_hashes: list[str],
         wallets: list[str], since: datetime | None, hops: int) -> None:
    """Trace the request's funds as `kyt requests add` does, record it, and open or link a case per deposit."""
    sources, moment, store = state.sources(), state.now(), state.store()
    with state.shown():
        if deadline is None:
            raise InvalidRequest("a request has a deadline: pick its day")
        seeds = freeze_trace.parse_seeds(reference, tx_hashes=tx_hashes, wallets=wallets, hops=hops,
                                         since=int(since.timestamp() * 1_000_000) if since else None)
        loaded = batch.read_inputs([("transfers", sources["transfers"], readers.read_transfers),
                                    ("services", sources["services"], readers.read_services)])
        deposits = readers.deposits_from_rows(known_deposits(store), where="the database's deposits")
        hits, snapshot = freeze_trace.trace(seeds, loaded["transfers"], deposits, services=loaded.get("services"),
                                            now=moment)
        try:
            request = freeze_requests.add(store, state.actor(), reference=reference, requester=requester, kind=kind,
                                          deadline=deadline, tx_hashes=seeds.tx_hashes, wallets=seeds.wallets,
                                          since=since, hops=hops, now=moment)
        except IntegrityError:  # someone recorded the same reference a moment before
            raise InvalidRequest(f"there is already a request {reference.strip()!r}") from None
        linked = freeze_requests.link(store, state.actor(), request.id, hits=hits, snapshot=snapshot, now=moment)
        st.session_state["requests_reached"] = {
            "summary": f"Request {request.id} ({state.plain(request.reference)}) recorded: the funds reached "
                       f"{len(hits):,} deposit(s); {linked.opened:,} case(s) opened, "
                       f"{len(hits) - linked.opened:,} already open.",
            "rows": [{"deposit": h.record.deposit_id, "customer": h.record.customer_id, "hop": h.hop,
                      "stolen USD": _usd(h.stolen_usd, h.unknown),
                      "share": "unknown" if h.record.exposures[0].share is None
                      else f"{h.record.exposures[0].share:.4%}", "case": linked.case_ids[h.record.deposit_id]}
                     for h in hits]}
        st.session_state["requests_reset"] = True
        st.rerun()


def _reached() -> None:
    """What the last request added in this session reached, with a way to each case."""
    added = st.session_state.get("requests_reached")
    if not added:
        return
    st.success(added["summary"])
    if added["rows"]:
        st.dataframe(added["rows"], hide_index=True, width="stretch")
        _open_case(sorted({r["case"] for r in added["rows"]}), "reached")


def _answer_form(found: list) -> None:
    """An unanswered request, an approved template (its description and text), a confirmation, the answer recorded."""
    answered = st.session_state.pop("requests_answered", None)
    if answered:
        st.success(f"Answer to {state.plain(answered['reference'])} recorded (in the request and the audit trail). "
                   "The text to send:")
        st.text(answered["text"])
    waiting = {r.id: r for r, _ in found if r.status != "answered"}
    if not waiting:
        st.caption("No request is waiting for an answer.")
        return
    chosen = st.selectbox("Request", list(waiting), key="answer_request", format_func=lambda i: (
        f"{i} · {waiting[i].reference} · {waiting[i].requester} · due {state.when(waiting[i].deadline)}"))
    approved = freeze_requests.templates()
    template = st.selectbox("Approved answer", list(approved), key="answer_template",
                            format_func=lambda t: t.replace("_", " "))
    st.markdown(f"**{template.replace('_', ' ')}**: {state.plain(approved[template]['description'])}")
    st.text(approved[template]["text"])
    st.caption("The {placeholders} are filled from the request and what its trace found when the answer is recorded. "
               "Funds frozen and no funds found close the request; acknowledged only acknowledges it.")
    sure = st.checkbox("I confirm: this text is recorded as the answer sent to the requester; it cannot be changed.",
                       key="answer_confirm")
    if st.button("Record the answer", type="primary", disabled=not sure, key="answer_record"):
        with state.shown():
            text = freeze_requests.respond(state.store(), state.actor(), chosen, template_id=template,
                                           now=state.now())
            st.session_state["requests_answered"] = {"reference": waiting[chosen].reference, "text": text}
            st.session_state["requests_reset"] = True
            st.rerun()
