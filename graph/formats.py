"""The columns of the transfers and deposits formats (docs/formats.md), in file order.

Kept apart from the readers so that the live ingestion can name them without loading
numpy and pyarrow.
"""

TRANSFER_COLUMNS = ("tx_hash", "block_number", "position", "timestamp", "from_address",
                    "to_address", "asset", "amount", "usd_value")
DEPOSIT_COLUMNS = ("deposit_id", "tx_hash", "customer_id", "timestamp", "block_number", "position",
                   "from_address", "to_address", "asset", "amount", "usd_value")
