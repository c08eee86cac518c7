"""The platform's deposits the database knows, as deposits rows: what a freeze request made over the API is traced to."""

from __future__ import annotations

from sqlmodel import Session, select

from cases.api_models import ApiScreening
from cases.db import Store
from cases.models import Alert, Case

FIELDS = ("deposit_id", "tx_hash", "customer_id", "block_number", "position", "from_address", "to_address", "asset",
          "amount", "usd_value", "chain")


def known_deposits(store: Store) -> list[dict]:
    """Every deposit with a case, an alert or an API answer, once each, as the fields of a deposits row."""
    rows: dict[str, dict] = {}
    with Session(store.engine) as session:
        for model in (Case, Alert):
            for item in session.exec(select(model)).all():
                rows.setdefault(item.deposit_id, {**{f: getattr(item, f) for f in FIELDS},
                                                  "timestamp": item.deposit_time.isoformat()})
        for screened in session.exec(select(ApiScreening)).all():
            record = screened.record
            if "block_number" in record:  # answers replayed from a case carry no deposit fields
                rows.setdefault(screened.deposit_id, {f: record.get(f) for f in FIELDS} | {
                    "timestamp": record["timestamp"]})
    return list(rows.values())
