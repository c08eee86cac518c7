"""The columns of the transfers and deposits formats (docs/formats.md), in file order.

Kept apart from the readers so that the live ingestion can name them without loading
numpy and pyarrow.
"""

TRANSFER_COLUMNS = ("tx_hash", "block_number", "position", "timestamp", "from_address",
                    "to_address", "asset", "amount", "usd_value")
CHAIN_COLUMN = "chain"
"""The optional column of every file that names each row's chain (graph/chains.py); empty or absent: ethereum."""
DEPOSIT_COLUMNS = ("deposit_id", "tx_hash", "customer_id", "timestamp", "block_number", "position",
                   "from_address", "to_address", "asset", "amount", "usd_value")

TEXT_LIMITS = {"deposit_id": 200, "customer_id": 200, "tx_hash": 200, "asset": 100, "category": 40,
               "source": 200, "entity": 200, "kind": 40, "split": 20}
"""The most characters a text field of an input file may hold (what a case can keep of it)."""

EARLIEST_TIME = 0
"""1970-01-01T00:00:00Z (unix time 0): no time in a file is earlier."""
LATEST_TIME = 4_102_444_800_000_000
"""2100-01-01T00:00:00Z: every time in a file is earlier."""

WHOLE_DIGITS = 20
"""The most digits a deposit's amount may have before its decimal point (what a case keeps exactly)."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""How a cell starts when a spreadsheet would run it as a formula (or strip a character to find one)."""


def spreadsheet_safe(value: object) -> object:
    r"""A text cell that a spreadsheet would treat as a formula, behind an apostrophe; anything else as it is.

    >>> spreadsheet_safe('=HYPERLINK("http://x")'), spreadsheet_safe("alice"), spreadsheet_safe(5)
    ('\'=HYPERLINK("http://x")', 'alice', 5)
    """
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value
