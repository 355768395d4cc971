"""Evidence files (申诉证据): type detected from the content, never from the name or the
client's Content-Type; stored under a generated UUID name below PRIVATE_ROOT/evidence/.

Accepted: PDF, JPEG, PNG, XLSX, DOCX. Refused with a clear Chinese message: anything else,
HTML or SVG (also when renamed), files mixing an accepted format with markup or script
(polyglots), images with data appended after their end marker, macro-enabled or oversized or
bomb-like Office zips, and the EICAR test signature.
"""

import hashlib
import io
import re
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _

from .errors import EvidenceRejected

ACCEPTED_LABEL = "PDF、JPG、PNG、XLSX、DOCX"


@dataclass(frozen=True)
class EvidenceType:
    kind: str  # pdf | jpeg | png | xlsx | docx
    content_type: str
    extension: str


PDF = EvidenceType("pdf", "application/pdf", ".pdf")
JPEG = EvidenceType("jpeg", "image/jpeg", ".jpg")
PNG = EvidenceType("png", "image/png", ".png")
XLSX = EvidenceType("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx")
DOCX = EvidenceType("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx")
TYPES_BY_KIND = {t.kind: t for t in (PDF, JPEG, PNG, XLSX, DOCX)}

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"
# markup or script that makes a file renderable by a browser: never in evidence
MARKUP = re.compile(rb"<\s*(?:html|script|svg|iframe|body|object|embed|meta|!doctype)\b|<\?php|<\?xml-stylesheet", re.I)
EICAR = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"

# PDF features that run something or carry another file: refused as evidence (issue 11).
PDF_ACTIVE_NAMES = {b"JavaScript", b"JS", b"OpenAction", b"AA", b"Launch", b"EmbeddedFile", b"EmbeddedFiles",
                    b"RichMedia", b"XFA", b"SubmitForm", b"ImportData", b"GoToR", b"GoToE"}  # fmt: skip
_PDF_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]+)")
_PDF_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"stream\r?\n")
PDF_MAX_INFLATED = 64 * 1024 * 1024

ZIP_MAX_ENTRIES = 2000
ZIP_MAX_TOTAL_UNCOMPRESSED = 200 * 1024 * 1024
ZIP_MAX_RATIO = 100


def _refuse(name: str, detail: str) -> EvidenceRejected:
    return EvidenceRejected(
        _("文件“%(name)s”未被接受：%(detail)s。仅接受 %(types)s 文件（按文件内容识别，与文件名无关）。")
        % {"name": name, "detail": detail, "types": ACCEPTED_LABEL}
    )


def _describe_unknown(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in text[:2048]:
        return _("文件内容是 SVG 图像（可包含脚本），不予接受")
    if text.startswith((b"<!doctype html", b"<html")) or b"<html" in text[:1024] or b"<script" in text[:1024]:
        return _("文件内容是 HTML 网页，不是其文件名所示的类型")
    if text.startswith(b"<"):
        return _("文件内容是 XML/标记文本，不予接受")
    return _("无法识别的文件类型")


def _check_zip(data: bytes, name: str) -> EvidenceType:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _refuse(name, _("压缩包结构损坏")) from None
    if len(infos) > ZIP_MAX_ENTRIES:
        raise _refuse(name, _("压缩包条目过多（%(n)d 个）") % {"n": len(infos)})
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > ZIP_MAX_TOTAL_UNCOMPRESSED:
            raise _refuse(name, _("压缩包内文件声明的大小过大"))
        if info.compress_size == 0 and info.file_size > 0:
            raise _refuse(name, _("压缩包声明的大小不一致"))
        if info.compress_size and info.file_size / info.compress_size > ZIP_MAX_RATIO:
            raise _refuse(name, _("压缩比异常（疑似压缩炸弹）"))
    if total > ZIP_MAX_TOTAL_UNCOMPRESSED:
        raise _refuse(name, _("解压后总大小过大（疑似压缩炸弹）"))
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names:
        raise _refuse(name, _("压缩包不是 Office 文档"))
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise _refuse(name, _("含宏的 Office 文档不予接受"))
    if any(n.startswith("xl/") for n in names):
        return XLSX
    if any(n.startswith("word/") for n in names):
        return DOCX
    raise _refuse(name, _("压缩包不是 XLSX 或 DOCX 文档"))


def _pdf_names(chunk: bytes) -> set[bytes]:
    """PDF name objects in `chunk`, with #xx escapes decoded (/J#61vaScript is /JavaScript)."""
    return {_PDF_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), n) for n in _PDF_NAME.findall(chunk)}


def _inflated_streams(data: bytes) -> list[bytes]:
    """The Flate-compressed streams of a PDF (object streams can hide dictionaries), bounded in total."""
    out: list[bytes] = []
    budget = PDF_MAX_INFLATED
    for match in _PDF_STREAM.finditer(data):
        inflater = zlib.decompressobj()
        try:
            chunk = inflater.decompress(data[match.end() : match.end() + budget], budget)
        except zlib.error:
            continue  # not Flate (an image, say) or damaged: nothing hidden we could read
        budget -= len(chunk)
        out.append(chunk)
        if budget <= 0:
            break
    return out


def _check_pdf(data: bytes, name: str) -> None:
    found = _pdf_names(data)
    for chunk in _inflated_streams(data):
        found |= _pdf_names(chunk)
    active = sorted(n.decode("latin-1") for n in found & PDF_ACTIVE_NAMES)
    if active:
        raise _refuse(
            name,
            _("PDF 含有脚本、自动动作或嵌入文件（%(names)s），不予接受；请另存为普通 PDF 后上传")
            % {"names": "、".join(f"/{n}" for n in active)},
        )


def _check_png(data: bytes, name: str) -> None:
    end = data.rfind(b"IEND")
    if end < 0 or len(data) > end + 8:  # IEND + 4-byte CRC must end the file
        raise _refuse(name, _("PNG 图像结尾之后附加了其他数据"))


def _check_jpeg(data: bytes, name: str) -> None:
    end = data.rfind(b"\xff\xd9")
    if end < 0 or data[end + 2 :].strip(b"\x00\r\n"):
        raise _refuse(name, _("JPG 图像结尾之后附加了其他数据"))


def detect_type(data: bytes, name: str = "") -> EvidenceType:
    """Return the evidence type of `data` or raise EvidenceRejected with the reason in Chinese."""
    if not data:
        raise _refuse(name, _("文件为空"))
    if EICAR in data:
        raise _refuse(name, _("文件被识别为病毒测试样本（EICAR）"))
    if data.startswith(b"%PDF-"):
        kind = PDF
        if b"%%EOF" not in data[-2048:]:
            raise _refuse(name, _("PDF 文件不完整（缺少文件结束标记）"))
        _check_pdf(data, name)
    elif data.startswith(b"\xff\xd8\xff"):
        kind = JPEG
        _check_jpeg(data, name)
    elif data.startswith(PNG_MAGIC):
        kind = PNG
        _check_png(data, name)
    elif data.startswith(ZIP_MAGIC):
        return _check_zip(data, name)
    else:
        raise _refuse(name, _describe_unknown(data[:4096]))
    if MARKUP.search(data):
        raise _refuse(name, _("文件中混有 HTML/SVG/脚本内容（多格式伪装文件）"))
    return kind


@dataclass(frozen=True)
class StoredFile:
    kind: EvidenceType
    relative_path: str  # relative to PRIVATE_ROOT
    size: int
    sha256: str


def evidence_dir() -> Path:
    return Path(settings.PRIVATE_ROOT) / "evidence"


def read_upload(uploaded: IO[bytes], name: str, size: int | None) -> bytes:
    """Read an upload, refusing it as soon as it exceeds EVIDENCE_MAX_BYTES."""
    limit = settings.EVIDENCE_MAX_BYTES
    too_big = _refuse(name, _("文件超过大小上限 %(mb).0f MB") % {"mb": limit / 1024 / 1024})
    if size is not None and size > limit:
        raise too_big
    data = uploaded.read(limit + 1)
    if len(data) > limit:
        raise too_big
    return data


def store(data: bytes, kind: EvidenceType) -> StoredFile:
    """Write validated bytes to PRIVATE_ROOT/evidence/<uuid> (no user-controlled part in the path)."""
    folder = evidence_dir()
    folder.mkdir(parents=True, exist_ok=True)
    file_name = uuid.uuid4().hex
    path = folder / file_name
    with open(path, "xb") as fh:
        fh.write(data)
    return StoredFile(kind, f"evidence/{file_name}", len(data), hashlib.sha256(data).hexdigest())


def absolute_path(relative_path: str) -> Path:
    root = Path(settings.PRIVATE_ROOT).resolve()
    path = (root / relative_path).resolve()
    if root not in path.parents:
        raise FileNotFoundError(relative_path)
    return path


def download_name(original_name: str, kind: EvidenceType) -> str:
    """The original name with the extension of the detected type (a PNG named .pdf downloads as .png)."""
    stem = Path(original_name).stem or "evidence"
    return f"{stem[:100]}{kind.extension}"
