"""The body of a withdrawal screening call, checked: each field's rules, the address on its chain, exact amounts."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Union

from pydantic import BaseModel, ConfigDict, Field

from graph import chains
from graph.fields import MAX_PLACES
from graph.formats import WHOLE_DIGITS

MAX_BATCH = 1_000


class WithdrawalIn(BaseModel):
    """One withdrawal the platform is about to send (docs/api.md)."""

    model_config = ConfigDict(extra="forbid")
    withdrawal_id: str = Field(min_length=1, max_length=200)
    customer_id: str = Field(min_length=1, max_length=200)
    chain: str = Field(default=chains.DEFAULT, max_length=40)
    address: str = Field(min_length=1, max_length=200, description="the destination, on `chain`")
    asset: str = Field(min_length=1, max_length=100)
    amount: Union[str, float, int] = Field(description="decimal text (exact), or a number; not negative")
    usd_value: Union[str, float, int, None] = Field(default=None, description="null: no price (unknown)")


class WithdrawalBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    withdrawals: list[WithdrawalIn] = Field(min_length=1, max_length=MAX_BATCH)


def checked(item: WithdrawalIn) -> tuple[dict, list[tuple[str, str]]]:
    """The withdrawal's fields in canonical form (address, amounts as decimal text), and (field, problem) pairs."""
    problems: list[tuple[str, str]] = []
    values = item.model_dump()
    try:
        values["chain"] = chains.check_chain(item.chain)
        values["address"] = chains.normalise(values["chain"], item.address.strip())
    except chains.ChainNameError as error:
        problems.append(("chain", str(error)))
    except chains.AddressError as error:
        problems.append(("address", f"{error} (chain {values['chain']})"))
    for name in ("amount", "usd_value"):
        value = values[name]
        if value is None or (name == "usd_value" and value == ""):
            values[name] = None
            continue
        text = str(value).strip()
        try:
            number = Decimal(text)
            if not number.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ArithmeticError):
            problems.append((name, f"{name} {text[:40]!r} is not a number"))
            continue
        if number < 0:
            problems.append((name, f"{name} {text[:40]} is negative"))
            continue
        places, whole = -number.as_tuple().exponent, number.adjusted() + 1
        if whole > WHOLE_DIGITS or (number != 0 and number.normalize().as_tuple().exponent < -MAX_PLACES):
            problems.append((name, f"{name} {text[:40]} is out of range (at most {WHOLE_DIGITS} digits before the "
                                   f"decimal point and {MAX_PLACES} after)"))
            continue
        values[name] = format(number.normalize(), "f") if places > 0 or whole > 0 else "0"
    return values, problems
