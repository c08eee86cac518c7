"""Text columns cell by cell at the byte level: whether any value may hold a control character, and CSV cells
that a spreadsheet would run as formulas made safe (graph.formats.spreadsheet_safe for a whole column)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.formats import FORMULA_STARTS

CONTROL_PATTERN = r"[\x{0}-\x{1f}\x{7f}-\x{9f}\x{202a}-\x{202e}\x{2066}-\x{2069}]"
"""C0, DEL, C1, and the Unicode controls that reorder text on screen (bidirectional overrides and isolates)."""
_FORMULA_PATTERN = "^[" + "".join(f"\\x{{{ord(c):x}}}" for c in FORMULA_STARTS) + "]"


def value_bytes(chunk: pa.Array) -> np.ndarray:
    """The bytes of a string array's values, back to back (only its own slice of the buffer)."""
    if not len(chunk):
        return np.empty(0, dtype=np.uint8)
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32, count=len(chunk) + 1, offset=4 * chunk.offset)
    data = chunk.buffers()[2]
    if data is None:
        return np.empty(0, dtype=np.uint8)
    return np.frombuffer(data, dtype=np.uint8)[int(offsets[0]):int(offsets[-1])]


def may_hold_controls(text: pa.Array | pa.ChunkedArray) -> bool:
    """False when every byte is printable ASCII (the usual file: then no regex needs to run at all)."""
    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    for chunk in chunks:
        found = value_bytes(chunk)
        if len(found) and ((found < 0x20).any() or (found >= 0x7f).any()):
            return True
    return False


def spreadsheet_safe_column(text: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """`graph.formats.spreadsheet_safe` for each value of a text column (no copy when no value needs it)."""
    risky = pc.match_substring_regex(text, _FORMULA_PATTERN)
    if not pc.any(risky).as_py():
        return text
    return pc.if_else(risky, pc.binary_join_element_wise("'", text, ""), text)
