"""How fast every console page answers at size: 100,000 cases and 300,000 alerts, on PostgreSQL (or SQLite).

    python benchmarks/console_bench.py --pg postgresql://postgres@127.0.0.1:5432/postgres
    python benchmarks/console_bench.py --cases 10000 --alerts 30000 --rounds 3      # SQLite, smaller

Fills a fresh database with the cases of benchmarks/queue_bench.py (exposures, deadlines,
a valid audit chain), `--alerts` review alerts (with their audit events), and
`--inquiries` customer inquiries with their acknowledgements, a few events on one case,
and one held reply; then renders every page of every role headless (Streamlit's
AppTest: the page's whole script, its queries and its elements, without a browser),
`--rounds` times each after one warm-up, and prints the median and the slowest time per
page and role. A browser adds its own drawing time to these. Figures are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import queue_bench  # noqa: E402
from queue_bench import CATEGORIES, OUT, drop_scratch, fill, scratch_database  # noqa: E402

from cases import audit, service, staff  # noqa: E402
from cases.bulk import insert_rows, reserve_ids  # noqa: E402
from cases.db import open_store, refresh_statistics  # noqa: E402
from cases.models import Alert  # noqa: E402
from cases.replies import conversations  # noqa: E402

NOW = datetime.now(timezone.utc).replace(microsecond=0)
"""The pages read the real clock: the data is laid out around it."""
START = NOW - timedelta(days=180)
queue_bench.START = START  # the cases open over the 180 days before now (queue_bench.fill reads its START)
PEOPLE = {"ada": "admin", "abe": "admin", "ann": "analyst", "sam": "supervisor", "sia": "supervisor", "sue": "support"}
PAGES = {"queue": ("pages_cases", "queue_page"), "alerts": ("pages_alerts", "alerts_page"),
         "case": ("pages_cases", "case_page"), "deadlines": ("pages_supervisor", "deadlines_page"),
         "figures": ("pages_supervisor", "figures_page"), "support": ("pages_support", "support_page"),
         "users": ("pages_admin", "users_page"), "rules": ("pages_batch", "rules_page"),
         "batch": ("pages_batch", "batch_page"), "requests": ("pages_requests", "requests_page")}


def add_people(store) -> None:
    for name, role in PEOPLE.items():
        _, grant = staff.add_user(store, "system:bench" if name == "ada" else "ada", name, role=role, now=START,
                                  password="a long bench password")
        if grant is not None:
            staff.decide(store, "abe", grant.id, approve=True, now=START)


def fill_alerts(store, count: int, seed: int) -> None:
    """`count` review alerts over the last 90 days, 5,000 at a time, each with its audit event."""
    rng = random.Random(seed)
    for first in range(0, count, 5000):
        with service.unit_of_work(store) as session:
            rows = []
            for i in range(first, min(first + 5000, count)):
                created = NOW - timedelta(minutes=rng.randrange(1, 129_600))
                category = rng.choice(CATEGORIES)
                rows.append(dict(deposit_id=f"R-{i:07d}", customer_id=f"cust-{rng.randrange(20_000)}",
                                 tx_hash=f"0x{i + 10**9:064x}", from_address=f"0x{rng.getrandbits(160):040x}",
                                 to_address=f"0x{i:040x}", asset="USDT", amount=Decimal(rng.randrange(10, 10**5)),
                                 usd_value=Decimal(rng.randrange(10, 10**5)), deposit_time=created,
                                 block_number=20_000_000 + i, position=1, sender_risk=None,
                                 rule_ids=[f"{category}-indirect"], categories=[category], snapshot_id="bench",
                                 status=rng.choices(["open", "dismissed"], [70, 30])[0], created_at=created,
                                 version=1))
            for row, alert_id in zip(rows, reserve_ids(session, Alert.__table__, len(rows))):
                row["id"] = alert_id
            insert_rows(session, Alert.__table__, rows)
            audit.append_many(session, "system:bench", at=START, events=[
                ("alert.opened", None, {}, {"alert": r["id"], "deposit_id": r["deposit_id"],
                                            "rule_ids": r["rule_ids"], "snapshot_id": r["snapshot_id"]})
                for r in rows])


def fill_support(store, inquiries: int, case_id: int) -> None:
    """Inquiries (with their acknowledgements) spread over the last 30 days, some on case `case_id`; one held
    reply; a few steps on that case, for its timeline."""
    rng = random.Random(5)
    for i in range(inquiries):
        at = NOW - timedelta(minutes=rng.randrange(1, 43_200))
        on_case = i % 10 == 0
        conversations.receive(store, "sue", now=at, channel=rng.choice(["email", "chat"]), topic="frozen_deposit",
                              locale="en", body=f"Where is my deposit? ({i})",
                              case_id=case_id if on_case else None, customer_id=None if on_case else f"cust-{i}")
    service.add_note(store, "ann", case_id, body="Called the customer.", now=NOW - timedelta(hours=1))
    conversations.send(store, "sia", case_id, template_id="status_update", locale="en", channel="chat",
                       now=NOW - timedelta(minutes=30),
                       text="Hello, your deposit is still temporarily restricted under OFAC rules.")


def render(module: str, function: str, name: str, role: str, rounds: int, case_id: int) -> list[float]:
    from streamlit.testing.v1 import AppTest

    samples = []
    for attempt in range(rounds + 1):
        at = AppTest.from_string(f"from ui.console.{module} import {function}\n{function}()", default_timeout=120)
        at.session_state["user"] = {"name": name, "role": role}
        at.session_state["case_id"] = case_id
        clock = time.perf_counter()
        at.run()
        spent = time.perf_counter() - clock
        if at.exception or at.error:
            raise SystemExit(f"{function} as {role}: {[e.value for e in at.error] or at.exception}")
        if attempt:  # the first is a warm-up (imports, caches)
            samples.append(spent)
    return samples


def measure(url: str, label: str, rounds: int, case_id: int) -> None:
    import logging

    from ui.console.state import PAGES_BY_ROLE

    for logger in ("streamlit", "streamlit.runtime.scriptrunner_utils.script_run_context"):
        logging.getLogger(logger).setLevel(logging.ERROR)  # "missing ScriptRunContext": AppTest outside a server

    os.environ["KYT_DB"] = url
    people = {role: name for name, role in PEOPLE.items()}
    print(f"[{label}] page, role: median and slowest of {rounds} renders (target: within a second)")
    for role in ("analyst", "supervisor", "support", "admin"):
        for key in PAGES_BY_ROLE[role]:
            module, function = PAGES[key]
            samples = render(module, function, people[role], role, rounds, case_id)
            print(f"[{label}] {key:9} {role:10} median {statistics.median(samples) * 1000:7.0f} ms, "
                  f"slowest {max(samples) * 1000:7.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--alerts", type=int, default=300_000)
    parser.add_argument("--inquiries", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pg", help="PostgreSQL server URL (a scratch database is created on it); else SQLite")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    cleanup = None
    if args.pg:
        url, cleanup = scratch_database(args.pg, "console_bench")
        label = "postgresql"
    else:
        OUT.mkdir(exist_ok=True)
        for leftover in OUT.glob("console-bench.db*"):
            leftover.unlink()
        url, label = f"sqlite:///{OUT / 'console-bench.db'}", "sqlite"
    store = open_store(url)
    try:
        clock = time.perf_counter()
        add_people(store)
        fill(store, args.cases, args.seed)
        fill_alerts(store, args.alerts, args.seed)
        with store.engine.connect() as connection:
            case_id = connection.execute(sa.text("SELECT min(id) FROM cases WHERE status = 'in_review'")).scalar_one()
        fill_support(store, args.inquiries, case_id)
        refresh_statistics(store.engine)
        print(f"[{label}] filled {args.cases:,} cases, {args.alerts:,} alerts and {args.inquiries:,} inquiries in "
              f"{time.perf_counter() - clock:.0f} s")
        measure(url, label, args.rounds, case_id)
    finally:
        store.dispose()
        drop_scratch(cleanup)


if __name__ == "__main__":
    main()
