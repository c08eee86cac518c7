"""Benchmark the case queue: 100,000 cases with deadlines and audit events, on SQLite and PostgreSQL.

    python benchmarks/queue_bench.py                                  # SQLite file in benchmarks/out/
    python benchmarks/queue_bench.py --pg postgresql://postgres@127.0.0.1:5432/postgres

Fills a fresh database through the same bulk path `kyt score` uses to open cases (cases,
exposures, deadlines and a valid audit chain), moves part of the cases along their
lifecycle, then times `cases.queries.queue` (one page of open cases, nearest deadline
first, with its total count), plain and filtered, and prints p50 and p95.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cases import audit, queries, service, staff  # noqa: E402
from cases.db import make_engine, open_store, refresh_statistics  # noqa: E402
from cases.models import Case, Deadline, Exposure  # noqa: E402
from cases.tracking import tracking_number  # noqa: E402
from cases.schedule import plan  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
CATEGORIES = ["sanctions", "stolen_funds", "scam", "mixer", "terrorist_financing"]
START = datetime(2026, 6, 1, tzinfo=timezone.utc)


def fill(store, count: int, seed: int) -> None:
    """`count` cases in chunks of 1,000, each with exposures, deadlines and an audit event."""
    rng = random.Random(seed)
    for first in range(0, count, 1000):
        with service.unit_of_work(store) as session:
            rows, extras = [], []
            for i in range(first, min(first + 1000, count)):
                opened = START + timedelta(minutes=rng.randrange(0, 260_000))
                category = rng.choice(CATEGORIES)
                deadlines = plan("case_opened", ["US", "NY"], opened) + plan("customer_waiting", ["US", "NY"], opened)
                if category == "sanctions":
                    deadlines += plan("sanctions_freeze", ["US", "NY"], opened)
                status = rng.choices(["open", "in_review", "awaiting_customer", "released", "closed"],
                                     [30, 30, 10, 10, 20])[0]
                rows.append(dict(
                    deposit_id=f"B-{i:07d}", customer_id=f"cust-{rng.randrange(20_000)}", tx_hash=f"0x{i:064x}",
                    from_address=f"0x{rng.getrandbits(160):040x}", to_address=f"0x{i:040x}", asset="USDT",
                    amount=Decimal(rng.randrange(10, 10**6)), usd_value=Decimal(rng.randrange(10, 10**6)),
                    deposit_time=opened - timedelta(minutes=5), block_number=20_000_000 + i, position=0,
                    decision="freeze", rule_ids=[f"{category}-direct"], snapshot_id="bench", snapshot={},
                    categories=[category], min_hop=rng.choice([1, 2]), jurisdictions=["US", "NY"],
                    tracking_number=tracking_number(), status=status, opened_at=opened, updated_at=opened,
                    next_due_at=min(d["due_at"] for d in deadlines) if status != "closed" else None,
                    assignee=rng.choice([None, "ann", "bob", "cat"]), version=1,
                    priority=rng.random(), priority_model="triage-bench", queue_order="model"))
                extras.append((category, deadlines, status))
            ids = session.execute(sa.insert(Case).returning(Case.id, sort_by_parameter_order=True), rows).scalars().all()
            session.execute(sa.insert(Exposure), [dict(case_id=c, category=e[0], hop=1, share=Decimal(1),
                                                       usd=Decimal(100), evidence={}) for c, e in zip(ids, extras)])
            session.execute(sa.insert(Deadline), [{**d, "case_id": c, "status": "cancelled" if e[2] == "closed" else "open"}
                                                  for c, e in zip(ids, extras) for d in e[1]])
            audit.append_many(session, "system:bench", at=START, events=[("case.opened", c, {}, {"deposit_id": r["deposit_id"]})
                                                               for c, r in zip(ids, rows)])


def timed(call, repeats: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeats):
        clock = time.perf_counter()
        call()
        samples.append((time.perf_counter() - clock) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def measure(store, label: str, repeats: int) -> None:
    now = START + timedelta(days=90)
    staff.add_user(store, "system:bench", "ada", role="admin", now=START)  # a database's first user is its admin
    staff.add_user(store, "ada", "ann", role="analyst", now=START)
    variants = {
        "first page": {},
        "page 100": {"page": 100},
        "category filter": {"category": "sanctions"},
        "status + assignee": {"status": "in_review", "assignee": "bob"},
        "amount range": {"min_usd": Decimal(500_000)},
        "triage priority order": {"order": "priority"},
    }
    for name, options in variants.items():
        for with_total in (False, True):
            def call():
                return queries.queue(store, queries.QueueFilter(with_total=with_total, **options), actor="ann", now=now)
            call()  # warm the caches once
            p50, p95 = timed(call, repeats)
            what = "page and total count" if with_total else "page"
            print(f"[{label}] queue, {name}, {what}: p50 {p50:.1f} ms, p95 {p95:.1f} ms (target p95 < 100 ms)")


def scratch_database(server: str, prefix: str) -> tuple[str, tuple]:
    """A new database on a PostgreSQL server (its admin URL): its URL, and what `drop_scratch` needs."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    url = sa.engine.make_url(server.replace("postgresql://", "postgresql+psycopg://", 1)).set(database=name)
    return url.render_as_string(hide_password=False), (admin, name)


def drop_scratch(cleanup: tuple | None) -> None:
    """Drop a database made by `scratch_database` (nothing for None)."""
    if cleanup:
        admin, name = cleanup
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--pg", help="PostgreSQL server URL (a scratch database is created on it)")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    targets = []
    OUT.mkdir(exist_ok=True)
    path = OUT / "queue-bench.db"
    for leftover in OUT.glob("queue-bench.db*"):
        leftover.unlink()
    targets.append(("sqlite", f"sqlite:///{path}", None))
    if args.pg:
        url, cleanup = scratch_database(args.pg, "queue_bench")
        targets.append(("postgresql", url, cleanup))
    for label, url, cleanup in targets:
        store = open_store(url)
        clock = time.perf_counter()
        fill(store, args.cases, args.seed)
        refresh_statistics(store.engine)  # as `kyt score` does after opening cases
        print(f"[{label}] filled {args.cases:,} cases with deadlines and audit events in {time.perf_counter() - clock:.1f} s")
        measure(store, label, args.repeats)
        store.dispose()
        drop_scratch(cleanup)


if __name__ == "__main__":
    main()
