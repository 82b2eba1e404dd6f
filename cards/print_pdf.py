"""The print PDF of a job, merged from its chunk PDFs by copying objects, one chunk at a time.

pdfium's import_pages holds the whole output document in memory (558 MB at 50,000 cards).
Chunks are written with a classic structure (cards/rendering/pdf_finisher.py: every object
`N 0 obj ... endobj`, one xref table, no object or xref streams), so merging needs no PDF
library: each chunk's objects are copied byte for byte, renumbered after the previous
chunk's, and only the references `N 0 R` in their dictionaries and arrays are rewritten;
stream data is never parsed. Each chunk's page tree becomes a kid of one new root; its
Catalog and Info are dropped. What is held: one chunk, plus 8 bytes per output object for
the final xref table.

A chunk of any other structure is refused with ChunkPdfError naming it: copying objects
out of an object stream, a chained or encrypted file would silently break the output.
"""

import re
from array import array

# Written last with fixed numbers: the Catalog, the root of the page tree, the Info.
CATALOG, ROOT_PAGES, INFO = 1, 2, 3
FIRST_CHUNK_OBJECT = 4
HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"  # binary comment: transfer tools keep it binary

# A literal string (left as is, so text like "(1 0 R)" is never renumbered; pydyf escapes
# every parenthesis in strings, so they never nest) or an indirect reference N G R.
_STRING_OR_REF = re.compile(rb"\((?:\\.|[^\\()])*\)|(?<![\w.+-])(\d+)\s+(\d+)\s+R\b", re.S)
_STRING_OR_NAME = re.compile(rb"\((?:\\.|[^\\()])*\)|/([^\s/<>\[\]()]+)", re.S)
_PDF_HEADER = re.compile(rb"%PDF-1\.[0-7]\s")
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*\Z")
_XREF = re.compile(rb"xref\s+0\s+(\d+)\s+")
_XREF_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])(?: \r| \n|\r\n)")
_TRAILER = re.compile(rb"\s*trailer\s*<<(.*?)>>\s*startxref", re.S)
_TRAILER_REF = re.compile(rb"/(Root|Info)\s+(\d+)\s+0\s+R")
_OBJ = re.compile(rb"(\d+)\s+(\d+)\s+obj\b\s*")
_LENGTH = re.compile(rb"/Length\s+(\d+)(\s+\d+\s+R)?")
_STREAM_KEYWORD = re.compile(rb"stream\r?\n")
_AFTER_STREAM_DATA = re.compile(rb"\s*endstream\s*")
_CATALOG = re.compile(rb"\s*<<\s*/Type\s*/Catalog\s*/Pages\s+(\d+)\s+0\s+R\s*>>\s*")
_PAGES = re.compile(rb"<<\s*/Type\s*/Pages\b")
_COUNT = re.compile(rb"/Count\s+(\d+)")
_UNSUPPORTED_OBJECT = re.compile(rb"/Type\s*/(ObjStm|XRef)\b")


class ChunkPdfError(ValueError):
    """A chunk PDF the merger cannot copy (not the classic structure it was written with)."""


def merge_chunk_pdfs(chunks, out):
    """Write to the binary file `out` one PDF with the pages of every chunk, in order.

    `chunks`: an iterable of chunk PDFs (bytes, or binary files read whole one at a time),
    consumed lazily: each chunk is copied to `out` before the next one is read. `out` is
    only written, never sought. Returns the number of pages."""
    out.write(HEADER)
    position = len(HEADER)
    offsets = array("Q", [0] * FIRST_CHUNK_OBJECT)  # by object number; [0] is the free head
    kids = []
    page_count = 0
    for index, chunk in enumerate(chunks, 1):
        label = getattr(chunk, "name", None) or f"#{index}"
        data = bytes(chunk) if isinstance(chunk, bytes | bytearray | memoryview) else chunk.read()
        objects, pages_root, count = _chunk_objects(data, f"chunk {label}", len(offsets))
        for obj in objects:
            offsets.append(position)
            position += len(obj)
        out.write(b"".join(objects))
        kids.append(pages_root)
        page_count += count
    position = _write(out, position, offsets, ROOT_PAGES, b"<</Type /Pages/Kids [%s]/Count %d>>"
                      % (b" ".join(b"%d 0 R" % kid for kid in kids), page_count))
    position = _write(out, position, offsets, CATALOG, b"<</Type /Catalog/Pages %d 0 R>>"
                      % ROOT_PAGES)
    position = _write(out, position, offsets, INFO, b"<</Producer (CampaignID)>>")
    if position >= 10**10:
        raise ValueError("the print PDF exceeds the 10-digit offsets of an xref table")
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % len(offsets))
    for start in range(1, len(offsets), 65536):  # 20 bytes a line, written in batches
        out.write(b"".join(b"%010d 00000 n \n" % offset
                           for offset in offsets[start : start + 65536]))
    out.write(b"trailer\n<</Size %d/Root %d 0 R/Info %d 0 R>>\nstartxref\n%d\n%%%%EOF\n"
              % (len(offsets), CATALOG, INFO, position))
    return page_count


def _write(out, position, offsets, number, body):
    obj = b"%d 0 obj\n%s\nendobj\n" % (number, body)
    offsets[number] = position
    out.write(obj)
    return position + len(obj)


def _chunk_objects(data, label, first_number):
    """([bytes of each output object, numbered from first_number], the new number of the
    chunk's page tree root, its page count)."""

    def refuse(reason):
        raise ChunkPdfError(f"{label}: {reason}; expected a classic chunk PDF (cards/rendering/)")

    if not _PDF_HEADER.match(data):
        refuse("not a PDF 1.x file")
    tail = _STARTXREF.search(data, max(0, len(data) - 64))
    if not tail:
        refuse("no startxref at the end")
    xref_at = int(tail[1])
    xref = _XREF.match(data, xref_at)
    if not xref:
        refuse("startxref does not point at a one-section xref table (an xref stream?)")
    size = int(xref[1])
    table_end = xref.end() + 20 * size
    entries = _XREF_ENTRY.findall(data, xref.end(), table_end)
    trailer = _TRAILER.match(data, table_end)
    if len(entries) != size or not trailer:
        refuse("malformed xref table or several xref sections")
    keys = {m[1] for m in _STRING_OR_NAME.finditer(trailer[1]) if m[1]}
    if keys - {b"Size", b"Root", b"Info", b"ID"}:
        # Encrypt, Prev (incremental update), XRefStm (hybrid file with object streams).
        refuse(f"trailer has {sorted(k.decode() for k in keys)}")
    special = {name.decode(): int(number) for name, number in _TRAILER_REF.findall(trailer[1])}
    if "Root" not in special:
        refuse("trailer has no /Root")
    in_use = []  # (offset, number)
    for number, (offset, generation, kind) in enumerate(entries):
        if kind == b"n":
            if generation != b"00000":
                refuse(f"object {number} has generation {int(generation)}")
            in_use.append((int(offset), number))
    in_use.sort()

    # Dense numbers in file order (so output offsets only grow); Catalog and Info dropped.
    dropped = {special["Root"], special.get("Info")}
    renumber = {}
    for _, old in in_use:
        if old not in dropped:
            renumber[old] = first_number + len(renumber)
    # Keyed by the reference as pydyf writes it: the common case is one dictionary look-up.
    replacement = {b"%d 0 R" % old: b"%d 0 R" % new for old, new in renumber.items()}

    def new_ref(match):
        new = replacement.get(match[0])
        if new is None and match[1] is not None:  # other spacing, or not a copied object
            new = replacement.get(b"%d %d R" % (int(match[1]), int(match[2])))
            if new is None:
                refuse(f"reference {match[0].decode()} to a free, Catalog or Info object")
        return new or match[0]  # a string is left as is

    objects = []
    pages_root = catalog = None
    ends = [offset for offset, _ in in_use[1:]] + [xref_at]
    for (start, old), end in zip(in_use, ends, strict=True):
        header = _OBJ.match(data, start)
        if not header or int(header[1]) != old or header[2] != b"0":
            refuse(f"xref entry of object {old} does not point at `{old} 0 obj`")
        close = data.rfind(b"endobj", header.end(), end)
        if close < 0 or data[close + 6 : end].strip():
            refuse(f"object {old} does not end with endobj before the next object")
        # The dictionary stops at the first `stream` keyword; the stream data is never read.
        head_end = data.find(b"stream", header.end(), close)
        if head_end < 0:
            head_end = close
        head = data[header.end() : head_end]
        if b"endobj" in head:
            refuse(f"object {old} holds several objects")
        if _UNSUPPORTED_OBJECT.search(head):
            refuse(f"object {old} is an object or xref stream")
        if head_end < close and (problem := _stream_problem(data, head, head_end, close)):
            refuse(f"stream object {old}: {problem}")
        if old in dropped:
            if old == special["Root"]:
                catalog = _CATALOG.fullmatch(head)
                if not catalog:
                    refuse(f"unexpected Catalog {head[:120]!r}")
            continue
        if b"R" in head:  # most dictionaries hold no reference: skip the regex
            head = _STRING_OR_REF.sub(new_ref, head)
        if _PAGES.match(head) and b"/Parent" not in head:
            # The root of the chunk's page tree, now a kid of the merged root.
            count = _COUNT.search(head)
            if pages_root is not None or not count:
                refuse("several page tree roots or no /Count")
            pages_root, page_count = renumber[old], int(count[1])
            head = b"<</Parent %d 0 R%s" % (ROOT_PAGES, head[2:])
        objects.append(b"%d 0 obj\n%s%sendobj\n"
                       % (renumber[old], head, memoryview(data)[head_end:close]))
    if pages_root is None or not catalog or renumber.get(int(catalog[1])) != pages_root:
        refuse("the Catalog does not point at the page tree root")
    return objects, pages_root, page_count


def _stream_problem(data, head, keyword, close):
    """Why the stream data is not exactly /Length bytes between `stream` EOL and `endstream`
    (it would mean the dictionary was not cut where we think), or None."""
    length = _LENGTH.search(head)
    if not length or length[2]:
        return "no direct /Length"
    keyword = _STREAM_KEYWORD.match(data, keyword)
    if not keyword:
        return "no end of line after `stream`"
    if not _AFTER_STREAM_DATA.fullmatch(data, keyword.end() + int(length[1]), close):
        return f"/Length {int(length[1])} does not end at endstream"
    return None
