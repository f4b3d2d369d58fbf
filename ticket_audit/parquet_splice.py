"""Build a Parquet file from row groups of other Parquet files without decoding them.

A re-audit changes a month or two of the redacted dataset; the other months' row groups are
copied byte for byte from the previous file (decoding and compressing them again took most
of the export). Only the footer is rewritten: it is Thrift compact protocol, read here into
a generic tree of (field id, type, value) and written back with the byte offsets of the
copied column chunks moved to their new place. Everything else in the footer is kept as it
was; a footer read and written unchanged is byte-identical (tested).

Limits, checked rather than assumed: every source must have the same schema, no
encryption, no page indexes and no bloom filters (their offsets point outside the row
groups; pyarrow writes neither unless asked).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"PAR1"
# Thrift compact protocol types.
_TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY = 1, 2, 3, 4, 5, 6, 7, 8
_LIST, _SET, _MAP, _STRUCT = 9, 10, 11, 12

# Field ids (parquet.thrift).
FMD_SCHEMA, FMD_NUM_ROWS, FMD_ROW_GROUPS, FMD_KV, FMD_ENCRYPTION = 2, 3, 4, 5, 8
RG_COLUMNS, RG_NUM_ROWS, RG_FILE_OFFSET, RG_ORDINAL = 1, 3, 5, 7
CC_FILE_OFFSET, CC_META = 2, 3
CC_PAGE_INDEX = (4, 5, 6, 7)
CC_ENCRYPTED = (8, 9)
CMD_COMPRESSED_SIZE = 7
CMD_DATA_PAGE, CMD_INDEX_PAGE, CMD_DICT_PAGE = 9, 10, 11
CMD_BLOOM = (14, 15)

Struct = list  # [(field id, type, value)]


class SpliceError(ValueError):
    """A source file this module cannot copy row groups from."""


class _Reader:
    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def byte(self) -> int:
        b = self.buf[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        v = self.varint()
        return (v >> 1) ^ -(v & 1)

    def value(self, t: int):
        if t == _BYTE:
            return self.byte()
        if t in (_I16, _I32, _I64):
            return self.zigzag()
        if t == _DOUBLE:
            self.pos += 8
            return self.buf[self.pos - 8 : self.pos]
        if t == _BINARY:
            n = self.varint()
            self.pos += n
            return self.buf[self.pos - n : self.pos]
        if t in (_LIST, _SET):
            head = self.byte()
            size, elem = head >> 4, head & 0x0F
            if size == 15:
                size = self.varint()
            # Booleans inside containers are one byte each; kept as that byte.
            read = self.byte if elem in (_TRUE, _FALSE) else lambda: self.value(elem)
            return (elem, [read() for _ in range(size)])
        if t == _MAP:
            size = self.varint()
            if size == 0:
                return (0, 0, [])
            kinds = self.byte()
            k, v = kinds >> 4, kinds & 0x0F
            return (k, v, [(self.value(k), self.value(v)) for _ in range(size)])
        if t == _STRUCT:
            return self.struct()
        raise SpliceError(f"unknown Thrift compact type {t}")

    def struct(self) -> Struct:
        fields, last = [], 0
        while True:
            head = self.byte()
            if head == 0:
                return fields
            delta, t = head >> 4, head & 0x0F
            fid = last + delta if delta else self.zigzag()
            last = fid
            fields.append((fid, t, t == _TRUE if t in (_TRUE, _FALSE) else self.value(t)))


class _Writer:
    def __init__(self) -> None:
        self.out = bytearray()

    def varint(self, v: int) -> None:
        while v > 0x7F:
            self.out.append((v & 0x7F) | 0x80)
            v >>= 7
        self.out.append(v)

    def zigzag(self, v: int) -> None:
        self.varint((v << 1) ^ (v >> 63))

    def value(self, t: int, v) -> None:
        if t == _BYTE:
            self.out.append(v)
        elif t in (_I16, _I32, _I64):
            self.zigzag(v)
        elif t == _DOUBLE:
            self.out += v
        elif t == _BINARY:
            self.varint(len(v))
            self.out += v
        elif t in (_LIST, _SET):
            elem, items = v
            if len(items) < 15:
                self.out.append(len(items) << 4 | elem)
            else:
                self.out.append(0xF0 | elem)
                self.varint(len(items))
            for item in items:
                if elem in (_TRUE, _FALSE):
                    self.out.append(item)
                else:
                    self.value(elem, item)
        elif t == _MAP:
            k, vt, items = v
            self.varint(len(items))
            if items:
                self.out.append(k << 4 | vt)
                for key, val in items:
                    self.value(k, key)
                    self.value(vt, val)
        elif t == _STRUCT:
            self.struct(v)
        else:
            raise SpliceError(f"unknown Thrift compact type {t}")

    def struct(self, fields: Struct) -> None:
        last = 0
        for fid, t, v in fields:
            wire = (_TRUE if v else _FALSE) if t in (_TRUE, _FALSE) else t
            if 0 < fid - last <= 15:
                self.out.append((fid - last) << 4 | wire)
            else:
                self.out.append(wire)
                self.zigzag(fid)
            last = fid
            if t not in (_TRUE, _FALSE):
                self.value(t, v)
        self.out.append(0)


def decode(buf: bytes) -> Struct:
    return _Reader(buf).struct()


def encode(fields: Struct) -> bytes:
    w = _Writer()
    w.struct(fields)
    return bytes(w.out)


def _get(fields: Struct, fid: int, default=None):
    return next((v for f, _, v in fields if f == fid), default)


def _set(fields: Struct, fid: int, t: int, value) -> Struct:
    out = [(f, ft, v) for f, ft, v in fields if f != fid]
    out.append((fid, t, value))
    return sorted(out, key=lambda x: x[0])


def read_footer(path: Path) -> tuple[Struct, int]:
    """(FileMetaData, file size)."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        if size < 12:
            raise SpliceError(f"{path}: too short for a Parquet file")
        fh.seek(size - 8)
        tail = fh.read(8)
        if tail[4:] != MAGIC:
            raise SpliceError(f"{path}: not a Parquet file (no magic at the end)")
        n = struct.unpack("<I", tail[:4])[0]
        fh.seek(size - 8 - n)
        meta = decode(fh.read(n))
    if _get(meta, FMD_ENCRYPTION) is not None:
        raise SpliceError(f"{path}: encrypted footers are not supported")
    return meta, size


@dataclass
class _Span:
    start: int
    end: int


def _row_group_span(rg: Struct) -> _Span:
    start, end = None, 0
    for cc in _get(rg, RG_COLUMNS)[1]:
        if any(_get(cc, f) is not None for f in (*CC_PAGE_INDEX, *CC_ENCRYPTED)):
            raise SpliceError("column chunks with page indexes or encryption are not supported")
        md = _get(cc, CC_META)
        if md is None or _get(cc, 1) is not None:  # metadata elsewhere / in another file
            raise SpliceError("column chunks without inline metadata are not supported")
        if any(_get(md, f) is not None for f in CMD_BLOOM):
            raise SpliceError("bloom filters are not supported")
        dict_page = _get(md, CMD_DICT_PAGE)
        first = dict_page if dict_page else _get(md, CMD_DATA_PAGE)
        start = first if start is None else min(start, first)
        end = max(end, first + _get(md, CMD_COMPRESSED_SIZE))
    if start is None:
        raise SpliceError("a row group without columns")
    return _Span(start, end)


def _moved(fields: Struct, ids: tuple[int, ...], delta: int) -> Struct:
    return [(f, t, v + delta if f in ids and v else v) for f, t, v in fields]


def _moved_row_group(rg: Struct, delta: int, ordinal: int) -> Struct:
    elem, chunks = _get(rg, RG_COLUMNS)
    moved = []
    for cc in chunks:
        md = _moved(_get(cc, CC_META), (CMD_DATA_PAGE, CMD_INDEX_PAGE, CMD_DICT_PAGE), delta)
        moved.append(_set(_moved(cc, (CC_FILE_OFFSET,), delta), CC_META, _STRUCT, md))
    rg = _set(_moved(rg, (RG_FILE_OFFSET,), delta), RG_COLUMNS, _LIST, (elem, moved))
    return _set(rg, RG_ORDINAL, _I16, ordinal) if _get(rg, RG_ORDINAL) is not None else rg


def splice(
    parts: list[tuple[Path, list[int]]], out: Path, key_values: dict[str, str] | None = None
) -> int:
    """Write `out` with the given row groups of the given files, in order; the footer is the
    first file's with those row groups, the total row count and `key_values` set (other keys
    of the first file kept). Returns the rows written."""
    footers = {path: read_footer(path)[0] for path, _ in parts}
    first = footers[parts[0][0]]
    schema = encode([(1, _LIST, _get(first, FMD_SCHEMA))])
    for path in footers:
        mine = encode([(1, _LIST, _get(footers[path], FMD_SCHEMA))])
        if mine != schema:
            raise SpliceError(f"{path}: another schema than {parts[0][0]}")
    groups, rows = [], 0
    with open(out, "wb") as dst:
        dst.write(MAGIC)
        for path, indices in parts:
            all_groups = _get(footers[path], FMD_ROW_GROUPS)[1]
            with open(path, "rb") as src:
                for i in indices:
                    rg = all_groups[i]
                    span = _row_group_span(rg)
                    src.seek(span.start)
                    data = src.read(span.end - span.start)
                    if len(data) != span.end - span.start:
                        raise SpliceError(f"{path}: row group {i} runs past the end of the file")
                    delta = dst.tell() - span.start
                    dst.write(data)
                    groups.append(_moved_row_group(rg, delta, len(groups)))
                    rows += _get(rg, RG_NUM_ROWS)
        meta = _set(first, FMD_ROW_GROUPS, _LIST, (_STRUCT, groups))
        meta = _set(meta, FMD_NUM_ROWS, _I64, rows)
        if key_values:
            kept = [
                kv
                for kv in (_get(first, FMD_KV) or (_STRUCT, []))[1]
                if _get(kv, 1).decode() not in key_values
            ]
            new = [
                [(1, _BINARY, k.encode()), (2, _BINARY, v.encode())] for k, v in key_values.items()
            ]
            meta = _set(meta, FMD_KV, _LIST, (_STRUCT, kept + new))
        footer = encode(meta)
        dst.write(footer)
        dst.write(struct.pack("<I", len(footer)))
        dst.write(MAGIC)
    return rows
