"""Addresses, transaction hashes and pieces of them in a reply, on any chain, whatever the case.

Every pattern runs on the text lowercased in compatibility form (folding.plain), with tracking
numbers blanked out. The case's own addresses and hashes only give a supervisor notes.

>>> [m.group(0) for m in HEX_PIECE.finditer("ask for 0x4f3a or 2f96, not de89 or 100cad")]
['0x4f3a', '2f96']
"""

from __future__ import annotations

import re

ANY_CHAIN_ID = re.compile(r"(?<![0-9a-z])(?:0x[0-9a-f]{6,}|[0-9a-f]{40}|[0-9a-f]{64})(?![0-9a-z])")
HEX_PIECE = re.compile(
    r"(?<![0-9a-z])(?:0x[0-9a-f]{3,}"
    r"|(?=[0-9a-f]*(?:[0-9][a-f]+[0-9]|[a-f][0-9]+[a-f]))[0-9a-f]{4,}"
    r"|(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{8,})(?![0-9a-z])")
"""A piece of an address or hash: 0x and three hex digits, four hex digits where letters and numbers
interleave ("2f96", not "de89" or "100cad"), or eight mixing them."""
LONG_TOKEN = re.compile(r"(?<![0-9a-z/=?&#._%-])(?=[0-9a-z]*[0-9])(?=[0-9a-z]*[a-z])[0-9a-z]{25,110}(?![0-9a-z])")
"""A long run of letters and digits, as addresses are on Bitcoin, Tron, Litecoin, Solana, XRP, Monero and
the rest (never inside a link's path or query)."""
QUOTES = "\\s:'\"«»“”„‘’‹›("
CUE = ("end(?:s|ing)?(?: in| with| on)?|start(?:s|ing)?(?: with)?|begin(?:s|ning)?(?: with)?|"
       "(?:finisc|termin|inizi|comincia)\\w*(?: con| in| per| por| par| en| em| com)?|se termine par|commen\\w* par|"
       "(?:empiez|comienz)\\w* (?:con|por)|(?:endet|endend|beginnt|beginnend) (?:auf|mit)|(?:come[cç]\\w*) (?:com|por)")
CUED_PIECE = re.compile(rf"(?<![0-9a-z])(?:{CUE})[{QUOTES}]*((?:0x)?[0-9a-z]{{3,}})")
"""A fragment named as the start or the end of something ("ending in 2f96", "che inizia con 0x4f3a")."""
CUED_BEFORE = re.compile(rf"(?<![0-9a-z])(?:auf|mit)[{QUOTES}]*((?:0x)?[0-9a-z]{{3,}})[{QUOTES}]*"
                         r"(?:endet|endend|beginnt|anfangt|anfängt)")
"""The same with the verb last ("die auf 96134 endet")."""
ELIDED = (re.compile(r"(?:\.{2,}|…)\s?((?:0x)?[0-9a-z]{4,})(?![0-9a-z])"),
          re.compile(r"(?<![0-9a-z])((?:0x)?[0-9a-z]{4,})\s?(?:\.{2,}|…)"))
"""A fragment cut short with an ellipsis ("...29961", "0x098b71…")."""
WALLET = re.compile(r"wallet|address|indirizz|portafogl|portefeuille|adresse|direcci|billetera|cartera|monedero|"
                    r"endere|carteira|hash|transac|transakt|\btx\b|sender|absender|remitente|mittente|exp[eé]diteur|"
                    r"remetente")
"""Words that make a bare number a piece of an address ("the wallet ending in 29961")."""
REASON = "contains a wallet address or transaction hash; replies name the deposit by amount, asset and date"
EVIDENCE_NOTE = "names what this case's evidence holds (shown to supervisors only)"


def _hexish(piece: str) -> bool:
    """A piece that can only be hex: 0x..., or hex digits mixing letters and numbers."""
    core = piece[2:] if piece.startswith("0x") else piece
    return piece.startswith("0x") and len(core) >= 3 or (
        all(c in "0123456789abcdef" for c in core) and any(c.isdigit() for c in core)
        and any(c.isalpha() for c in core))


def scan(lowered: str, span, add) -> None:
    """Report addresses, hashes and their pieces in `lowered` (offsets mapped back by `span`) to `add`."""
    for pattern in (ANY_CHAIN_ID, HEX_PIECE, LONG_TOKEN):
        for match in pattern.finditer(lowered):
            add("flags.chain_id", "flag_details", "block", span=span(*match.span()), reason=REASON)
    for pattern in (CUED_PIECE, CUED_BEFORE):
        for match in pattern.finditer(lowered):
            piece = match.group(1)
            about_a_wallet = WALLET.search(lowered, max(0, match.start() - 60), match.start()) is not None
            if _hexish(piece) or (about_a_wallet and any(c.isdigit() for c in piece)):
                add("flags.chain_id", "flag_details", "block", span=span(*match.span(1)), reason=REASON)
    for pattern in ELIDED:
        for match in pattern.finditer(lowered):
            piece = match.group(1)
            if _hexish(piece) or (piece.isdigit() and len(piece) >= 5):
                add("flags.chain_id", "flag_details", "block", span=span(*match.span(1)), reason=REASON)


def notes(lowered: str, span, *, known: list[str], add) -> None:
    """Report what of the case's own addresses and hashes (without 0x) `lowered` holds, as supervisor notes."""
    for match in re.finditer(r"(?<![0-9a-z])(0x)?([0-9a-z]{4,})(?![0-9a-z])", lowered):
        prefixed, run = bool(match.group(1)), match.group(2)
        if not (any(c.isdigit() for c in run) or len(run) >= 8):
            continue  # ordinary words spelt in hex letters ("added", "facade")
        starts = any(k.startswith(run) for k in known) and (prefixed or len(run) >= 6)
        ends = any(k.endswith(run) for k in known) and (not run.isdigit() or len(run) >= 5)
        if starts or ends or any(run in k for k in known if len(run) >= 10):
            add("case.evidence", "flag_details", "note", span=span(*match.span()), reason=EVIDENCE_NOTE)
