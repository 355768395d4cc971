"""Reading uploads into a DataFrame of strings: CSV (UTF-8 / UTF-8-BOM / GB18030) and XLSX.

Every cell comes back as a `str` ("" when empty) and the DataFrame index is the 0-based data-row
position, so the row number as the user sees it in the file is `index + 2` (header = row 1).
XLSX files are checked as zip archives *before* any XML is parsed (zip bombs, forged sizes,
overlapping entries, DTDs), so a hostile file is refused quickly and in bounded memory.
"""

import codecs
import csv
import itertools
import re
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _
from python_calamine import CalamineWorkbook, WorksheetNotFound

from . import sandbox
from .errors import IngestRejected

BOM = codecs.BOM_UTF8
ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = 4 << 20


@dataclass(frozen=True)
class ZipLimits:
    """Bounds an XLSX archive must respect before we let a parser near it."""

    max_entries: int = 1000
    max_total_uncompressed: int = 1 << 30  # 1 GiB of XML (≈ 1.5 million catalogue rows)
    max_ratio: int = 100  # per entry, for entries over `ratio_floor` bytes
    ratio_floor: int = 1 << 20


DEFAULT_LIMITS = ZipLimits()


def detect_encoding(path: Path) -> str:
    """'utf-8-sig' when the file starts with a BOM, 'utf-8' when it all decodes, else 'gb18030'."""
    with path.open("rb") as fh:
        head = fh.read(3)
        if head == BOM:
            return "utf-8-sig"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


_BAD_LINE = re.compile(r"line (\d+)")


def _title_lines(path: Path, encoding: str, scan: int = 30) -> int:
    """Physical lines of narrow title rows above the table (FORMATS.md §5.4).

    A province's export may start with a title (`湖南省挂网药品目录（2024年7月）`) written as a
    one-cell line: pandas would take it as a one-column header. The leading records narrower than
    the widest of the first `scan` records are skipped (a title as wide as the table is found later
    by catalogue.ingest.dialect.locate_header)."""
    try:
        with path.open(encoding=encoding, newline="") as fh:
            head = list(itertools.islice(fh, scan))
    except UnicodeDecodeError:
        return 0
    reader = csv.reader(head)
    widths: list[tuple[int, int]] = []  # (fields, physical line after the record)
    try:
        for record in reader:
            widths.append((len(record), reader.line_num))
    except csv.Error:
        return 0
    if len(widths) < 2:
        return 0
    widest = max(w for w, _line in widths)
    skipped = 0
    for width, line in widths:
        if width >= widest or width > 1:
            break
        skipped = line
    return skipped


def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV with the pandas C engine, every cell as a string."""
    encoding = detect_encoding(path)
    title_lines = _title_lines(path, encoding)
    try:
        frame = pd.read_csv(
            path,
            skiprows=title_lines,
            encoding=encoding,
            dtype=object,  # plain Python str cells: pandas' `str` dtype without pyarrow is several times slower
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except UnicodeDecodeError as exc:
        raise IngestRejected(_("无法识别文件编码（支持 UTF-8、带 BOM 的 UTF-8 和 GB18030）")) from exc
    except pd.errors.EmptyDataError as exc:
        raise IngestRejected(_("文件没有表头和数据")) from exc
    except pd.errors.ParserError as exc:
        match = _BAD_LINE.search(str(exc))
        where = _("第%(line)s行") % {"line": match.group(1)} if match else ""
        raise IngestRejected(_("CSV 格式错误：%(where)s列数与表头不一致") % {"where": where}) from exc
    if title_lines:
        frame.index = frame.index + title_lines  # row numbers stay those of the file
    return frame


def _local_header_end(fh, info: zipfile.ZipInfo) -> tuple[int, int, int]:
    """(data end offset, local compress_size, local file_size) read from the entry's local header."""
    fh.seek(info.header_offset)
    raw = fh.read(30)
    if len(raw) != 30 or raw[:4] != ZIP_MAGIC:
        raise IngestRejected(_("XLSX 文件结构损坏（本地文件头无效）"))
    fields = struct.unpack("<4s5H3L2H", raw)
    local_csize, local_usize, name_len, extra_len = fields[7], fields[8], fields[9], fields[10]
    data_end = info.header_offset + 30 + name_len + extra_len + info.compress_size
    return data_end, local_csize, local_usize


def check_xlsx_archive(path: Path, limits: ZipLimits = DEFAULT_LIMITS) -> None:
    """Refuse zip bombs before parsing: entry count, declared sizes, ratio, overlap, forged sizes."""
    size = path.stat().st_size
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestRejected(_("不是有效的 XLSX 文件（zip 结构损坏）")) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise IngestRejected(
                _("XLSX 文件包含 %(n)d 个条目，超过上限 %(max)d，已拒绝") % {"n": len(infos), "max": limits.max_entries}
            )
        total = sum(i.file_size for i in infos)
        if total > limits.max_total_uncompressed:
            raise IngestRejected(_("XLSX 解压后体积过大（%(mb)d MB），已拒绝") % {"mb": total >> 20})
        for info in infos:
            if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                raise IngestRejected(_("XLSX 条目 %(name)s 压缩比异常，疑似压缩炸弹，已拒绝") % {"name": info.filename})
        _check_layout(archive, infos, size)
        _check_contents(archive, infos)


def _check_layout(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], size: int) -> None:
    """Entries must not overlap, must lie inside the file, and local headers must agree."""
    fh = archive.fp
    previous_end = 0
    for info in sorted(infos, key=lambda i: i.header_offset):
        if info.header_offset < previous_end:
            raise IngestRejected(_("XLSX 条目相互重叠，疑似压缩炸弹，已拒绝"))
        data_end, local_csize, local_usize = _local_header_end(fh, info)
        if data_end > size or data_end > archive.start_dir:
            raise IngestRejected(_("XLSX 条目声明的大小超出文件范围（大小被伪造），已拒绝"))
        has_descriptor = info.flag_bits & 0x08
        zip64 = 0xFFFFFFFF in (local_csize, local_usize)
        if not has_descriptor and not zip64 and (local_csize, local_usize) != (info.compress_size, info.file_size):
            raise IngestRejected(_("XLSX 条目的本地头与目录大小不一致（大小被伪造），已拒绝"))
        previous_end = data_end


def _check_contents(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    """Decompress each entry in bounded chunks: the real size must match the declared one (CRC)."""
    for info in infos:
        try:
            with archive.open(info) as member:
                first = True
                while chunk := member.read(_CHUNK):
                    if first and info.filename.endswith((".xml", ".rels")) and (b"<!DOCTYPE" in chunk[:4096]):
                        raise IngestRejected(_("XLSX 含有 DTD/实体声明，已拒绝"))
                    first = False
        except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
            raise IngestRejected(
                _("XLSX 条目 %(name)s 内容与声明不符（大小被伪造或已损坏），已拒绝") % {"name": info.filename}
            ) from exc
        except Exception as exc:  # zlib.error and friends
            if isinstance(exc, IngestRejected):
                raise
            raise IngestRejected(_("XLSX 条目 %(name)s 无法解压，已拒绝") % {"name": info.filename}) from exc


def _cell_text(value: object) -> str:
    """A non-text XLSX cell as pandas' `dtype=str` would show it (12.0 → "12", 616.68 → "616.68")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _column_names(header: list) -> list[str]:
    """Header cells as column names: blanks become "Unnamed: i", repeats get ".1", ".2" (as pandas)."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, cell in enumerate(header):
        name = cell if isinstance(cell, str) else _cell_text(cell)
        name = name or f"Unnamed: {i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        seen.setdefault(name, 0)
        names.append(name)
    return names


def read_xlsx(path: Path, sheet: str | None = None, limits: ZipLimits = DEFAULT_LIMITS) -> pd.DataFrame:
    """Read the first sheet (or `sheet`) of an XLSX with python-calamine, every cell as a string.

    python-calamine is called directly: `pd.read_excel` would push the 3 million cells of a
    200,000-row sheet through pandas' Python-level TextParser, which doubles the read time.
    """
    check_xlsx_archive(path, limits)
    try:
        book = CalamineWorkbook.from_path(str(path))
        worksheet = book.get_sheet_by_name(sheet) if sheet else book.get_sheet_by_index(0)
        rows = worksheet.to_python(skip_empty_area=False)
    except WorksheetNotFound as exc:
        raise IngestRejected(_("XLSX 中没有名为「%(sheet)s」的工作表") % {"sheet": sheet}) from exc
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        raise IngestRejected(_("无法读取 XLSX：%(error)s") % {"error": exc}) from exc
    start = next((i for i, row in enumerate(rows) if any(c != "" for c in row)), len(rows))
    if start == len(rows):
        return pd.DataFrame()
    names = _column_names(rows[start])
    width = len(names)
    body = rows[start + 1 :]
    body = [row[:width] + [""] * (width - len(row)) if len(row) != width else row for row in body]
    columns = {}
    for name, column in zip(names, zip(*body, strict=True) if body else [()] * width, strict=True):
        try:
            "".join(column)  # one C-level pass: is every cell already text?
        except TypeError:
            column = _column_text(column)
        out = np.empty(len(column), dtype=object)
        out[:] = column
        columns[name] = out
    return pd.DataFrame(columns, dtype=object)


def _column_text(column: tuple) -> list[str]:
    """Cells as text; numbers are converted once per distinct value (a price column repeats a lot)."""
    floats: dict[float, str] = {}
    out = []
    for c in column:
        if type(c) is str:
            out.append(c)
        elif type(c) is float:
            text = floats.get(c)
            if text is None:
                text = floats[c] = _cell_text(c)
            out.append(text)
        else:
            out.append(_cell_text(c))
    return out


def read_table(path: Path, *, sheet: str | None = None) -> pd.DataFrame:
    """Read a CSV or XLSX upload (decided by content, not by name). Empty files are refused."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise IngestRejected(_("文件为空（0 字节）"))
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic == ZIP_MAGIC or path.suffix.lower() in (".xlsx", ".xlsm"):
        frame = sandbox.read_xlsx_isolated(path, sheet, read_xlsx)  # a child with memory and time limits
    else:
        frame = read_csv(path)
        sandbox.refuse_control_characters(frame)
    if len(frame.columns):
        filled = np.zeros(len(frame), dtype=bool)
        for j in range(len(frame.columns)):  # numpy compares, column by column: pandas' are several times slower
            filled |= frame.iloc[:, j].to_numpy(dtype=object) != ""
        frame = frame.loc[filled] if not filled.all() else frame
    if frame.empty:
        raise IngestRejected(_("文件没有数据行"))
    return frame
