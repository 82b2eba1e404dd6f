"""The QR printed on each card: `<PUBLIC_BASE_URL>/V/C/<CODE>#<TOKEN>`.

Kept at version 10 or below at level Q (25% of the symbol can be lost: a scratched, folded or
stained card still scans) for the longest name a token carries and a 44-character base URL
(README "Size and the QR"). Three segments, each in the QR's cheapest mode for it:

- the URL up to the code in alphanumeric mode (5.5 bits a character instead of 8): its
  scheme and host written in capitals (both are case-insensitive, browsers lower-case them)
  and the path `/V/C/` that verification/urls.py answers like `/v/c/`; codes are capitals;
- `#` in byte mode (the one character the alphanumeric set lacks);
- the token: digits (version 2) in numeric mode, base32 (version 1) in alphanumeric mode.

A base URL with a path the alphanumeric set cannot spell (lower-case letters) keeps its path
as is and its head goes in byte mode: a larger QR, never a broken link. The mask is fixed:
automatic selection scores all eight masks and made building a card's QR ~5x slower here
(11.7 vs 2.2 ms); mask 4 is the one segno picks most often for our URLs.

`qr_matrix` gives the same modules as `segno.make` (tests/test_qr_matrix.py) at a sixth of
its cost: segno encodes the segments; the Reed-Solomon codewords (segno's generator
polynomials and field tables) are computed a byte at a time, and the bits are placed into a
symbol made once per version by segno's own steps (docs/rendering.md, "QR modules").
"""

import functools
import itertools
import operator
import re
from urllib.parse import urlsplit

import segno
from django.conf import settings
from segno import consts, encoder

ERROR_LEVEL = "Q"
# Fixed so that building a QR does not evaluate all eight masks.
MASK = 4

# The QR alphanumeric character set: 0-9 A-Z space $%*+-./:
_ALPHANUMERIC = re.compile(r"[0-9A-Z $%*+\-./:]+")
_BASE32_TOKEN = re.compile(r"[A-Z2-7]+")
_DECIMAL_TOKEN = re.compile(r"[0-9]+")


def verification_url(card) -> str:
    """The card's link as people read it (messages, Wallet passes): lower-case."""
    return f"{settings.PUBLIC_BASE_URL}/v/c/{card.code}#{card.token}"


def qr_url(card) -> str:
    """The same link as the printed QR carries it: capitals where case does not matter."""
    return f"{qr_base_url()}/V/C/{card.code}#{card.token}"


def qr_base_url() -> str:
    """PUBLIC_BASE_URL with its scheme and host (and port) in capitals; its path unchanged."""
    parts = urlsplit(settings.PUBLIC_BASE_URL)
    return f"{parts.scheme.upper()}://{parts.netloc.upper()}{parts.path.rstrip('/')}"


def card_link(code) -> str:
    """The short address of a card's page, `<PUBLIC_BASE_URL>/v/c/<code>`: without the token
    the page verifies the card online by its code (what an SMS carries, to fit one segment)."""
    return f"{settings.PUBLIC_BASE_URL}/v/c/{code}"


def qr(url: str) -> segno.QRCode:
    return segno.make(
        qr_segments(url), error=ERROR_LEVEL, mask=MASK, micro=False, boost_error=False
    )


def qr_matrix(url: str) -> tuple:
    """Rows of modules (1 = dark), without quiet zone: cards/rendering/pdf_qr.py draws it on the
    card as a 1-bit image, one pixel a module, scaled without smoothing. The same modules as
    `qr(url).matrix`."""
    segments = encoder.prepare_data(qr_segments(url), None, None)
    version = encoder.find_version(segments, _ERROR, eci=False, micro=False)
    return _symbol(version).modules(_final_message(segments, version))


def _final_message(segments, version):
    """The symbol's bits, data then error correction codewords interleaved, as segno.make
    builds them for our options (no ECI, no error level boost). Segno writes the data bits;
    turning them into codewords, computing the Reed-Solomon codewords and turning all back
    into bits go a byte at a time here, where segno goes a bit or a coefficient at a time
    (~0.9 ms a card)."""
    bits = encoder.Buffer()
    for segment in segments:
        encoder.write_segment(bits, segment, None, encoder.version_range(version))
    capacity = consts.SYMBOL_CAPACITY[version][_ERROR]
    encoder.write_terminator(bits, capacity, None, len(bits))
    encoder.write_padding_bits(bits, version, len(bits))
    encoder.write_pad_codewords(bits, version, capacity, len(bits))
    data = bits.getbits()
    codewords = int(data.translate(_BIT_DIGITS), 2).to_bytes(len(data) // 8, "big")
    data_blocks, error_blocks = [], []
    for block_type in consts.ECC[version][_ERROR]:
        count = block_type.num_total - block_type.num_data
        for _ in range(block_type.num_blocks):
            block, codewords = codewords[: block_type.num_data], codewords[block_type.num_data :]
            data_blocks.append(block)
            error_blocks.append(_error_codewords(block, count))
    return b"".join(
        _BYTE_BITS[codeword]
        for blocks in (data_blocks, error_blocks)
        for codeword in itertools.chain.from_iterable(itertools.zip_longest(*blocks))
        if codeword is not None
    )


def _error_codewords(block, count):
    """The block's `count` Reed-Solomon codewords: the remainder of its division by the
    generator, as segno's make_blocks computes it, but a byte at a time rather than a
    coefficient at a time."""
    products = _generator_products(count)
    remainder, shift, keep = 0, 8 * (count - 1), (1 << 8 * count) - 1
    for codeword in block:
        remainder = ((remainder << 8) & keep) ^ products[codeword ^ (remainder >> shift)]
    return remainder.to_bytes(count, "big")


@functools.cache
def _generator_products(count):
    """Each byte value times segno's generator polynomial of `count` error correction
    codewords (its leading 1 left out) in segno's Galois field, as one number."""
    generator = consts.GEN_POLY[count]
    products = [0]
    for value in range(1, 256):
        logarithm = consts.GALIOS_LOG[value]
        product = bytes(consts.GALIOS_EXP[logarithm + power] for power in generator)
        products.append(int.from_bytes(product, "big"))
    return products


_BIT_DIGITS = bytes.maketrans(b"\0\1", b"01")
# Each byte as its eight bits, most significant first, one byte (0 or 1) a bit.
_BYTE_BITS = [bytes((value >> shift) & 1 for shift in range(7, -1, -1)) for value in range(256)]
_ERROR = encoder.normalize_errorlevel(ERROR_LEVEL)


class _Symbol:
    """What every symbol of one version shares, at our level and mask. Segno places the
    message's bits column pair by column pair, then XORs the mask over them and adds the format
    and version bits: 1.3 of its 2.3 ms, the same for every card. A module is therefore the
    module of an all-zero message XOR the bit placed there, so both are worked out once."""

    def __init__(self, version):
        self.width = width = encoder.calc_matrix_size(version)
        marked = self._function_patterns(version, list)
        count = sum(row.count(0x2) for row in marked)
        # Segno's placement, each data module marked with the index of its bit (from 3 up, clear
        # of the 0, 1 and 2 segno writes).
        encoder.add_codewords(marked, range(3, 3 + count), version)
        order = [k - 3 for row in marked for k in row]
        # Each module's bit, or the zero appended after the message for function modules.
        self._pick = operator.itemgetter(*(k if k >= 0 else count for k in order))
        blank = self._function_patterns(version, bytearray)
        encoder.add_codewords(blank, bytes(count), version)
        mask_pattern = encoder.get_data_mask_functions(False)[MASK]
        function_modules = self._function_patterns(version, bytearray)
        function_modules[-8][8] = 0x1  # the dark module, as find_and_apply_best_mask marks it
        encoder.apply_mask(
            blank, mask_pattern, width, width, lambda i, j: function_modules[i][j] > 0x1
        )
        encoder.add_format_info(blank, version, _ERROR, MASK)
        encoder.add_version_info(blank, version)
        self._blank = int.from_bytes(b"".join(blank), "big")
        self._bits = count

    @staticmethod
    def _function_patterns(version, row_type):
        width = encoder.calc_matrix_size(version)
        matrix = [row_type(row) for row in encoder.make_matrix(width, width)]
        encoder.add_finder_patterns(matrix, width, width)
        encoder.add_alignment_patterns(matrix, width, width)
        return matrix

    def modules(self, bits):
        """The rows of modules for the final message's `bits` (bytes, 0 or 1 each)."""
        # A few versions leave 3 to 7 modules after the last codeword: remainder bits, zero.
        if not 0 <= self._bits - len(bits) < 8:
            raise ValueError(f"{len(bits)} bits for a symbol of {self._bits}")
        placed = bytes(self._pick(bits.ljust(self._bits + 1, b"\0")))
        size = self.width * self.width
        flat = (int.from_bytes(placed, "big") ^ self._blank).to_bytes(size, "big")
        return tuple(bytearray(flat[i : i + self.width]) for i in range(0, size, self.width))


@functools.cache
def _symbol(version):
    return _Symbol(version)


def qr_segments(url: str) -> list:
    """[(text, segno mode)]: the head before '#' (alphanumeric if it can be, else byte), '#'
    (byte), a decimal token (numeric) or an upper-case base32 one (alphanumeric). Anything
    else is one segment, its mode left to segno."""
    head, sep, fragment = url.partition("#")
    if _DECIMAL_TOKEN.fullmatch(fragment):
        token_mode = consts.MODE_NUMERIC
    elif _BASE32_TOKEN.fullmatch(fragment):
        token_mode = consts.MODE_ALPHANUMERIC
    else:
        return [(url, None)]
    head_mode = consts.MODE_ALPHANUMERIC if _ALPHANUMERIC.fullmatch(head) else consts.MODE_BYTE
    return [(head, head_mode), (sep, consts.MODE_BYTE), (fragment, token_mode)]
