"""PDFs that run something or carry another file are refused as evidence (issue 11 item 3)."""

import zlib

import pytest

from appeals.errors import EvidenceRejected
from appeals.evidence import PDF, detect_type
from tests.appeals.files import pdf_bytes

CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"


def with_catalog(extra: bytes) -> bytes:
    return pdf_bytes().replace(CATALOG, CATALOG[:-2] + extra + b" >>")


@pytest.mark.parametrize(
    ("extra", "name"),
    [
        (b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>", "/OpenAction"),
        (b"/OpenAction << /S /Launch /F (cmd.exe) >>", "/Launch"),
        (b"/Names << /EmbeddedFiles << /Names [(a.exe) 9 0 R] >> >>", "/EmbeddedFiles"),
        (b"/AA << /O << /S /J#61vaScript /JS (x) >> >>", "/JavaScript"),  # hex-escaped name
    ],
)
def test_active_pdf_is_refused_with_the_reason(extra, name):
    with pytest.raises(EvidenceRejected) as info:
        detect_type(with_catalog(extra), "成本说明.pdf")
    assert name in str(info.value) and "PDF" in str(info.value)


def test_javascript_hidden_in_a_compressed_object_stream_is_found():
    hidden = zlib.compress(b"<< /Type /Action /S /JavaScript /JS (app.alert(1)) >>")
    stream = b"4 0 obj\n<< /Type /ObjStm /Filter /FlateDecode /Length %d >>\nstream\n" % len(hidden)
    data = pdf_bytes().replace(b"xref\n", stream + hidden + b"\nendstream\nendobj\nxref\n", 1)
    with pytest.raises(EvidenceRejected, match="JavaScript"):
        detect_type(data, "x.pdf")


def test_a_plain_pdf_with_compressed_content_is_accepted():
    content = zlib.compress(b"BT /F1 12 Tf 72 712 Td (Cost breakdown) Tj ET")
    stream = b"4 0 obj\n<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(content)
    data = pdf_bytes().replace(b"xref\n", stream + content + b"\nendstream\nendobj\nxref\n", 1)
    assert detect_type(data, "ok.pdf") == PDF
