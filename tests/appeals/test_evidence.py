"""Evidence: type from content, size limit, storage under a UUID, permission-checked download."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from appeals import services
from appeals.errors import EvidenceRejected
from appeals.evidence import detect_type
from tests.appeals import files

pytestmark = pytest.mark.django_db


@pytest.fixture
def appeal_a(maker_a, flag_a):
    return services.create_draft(
        user=maker_a, round_id=flag_a.round_id, flag_ids=[flag_a.pk], grounds="cost", statement="s"
    )


def upload(name: str, data: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_real_pdf_accepted_and_stored_under_uuid_outside_static(settings, maker_a, appeal_a):
    item = services.add_evidence(appeal_a.pk, user=maker_a, uploaded_file=upload("成本核算.pdf", files.pdf_bytes()))
    assert item.content_type == "application/pdf"
    path = Path(settings.PRIVATE_ROOT) / item.stored_path
    assert path.read_bytes() == files.pdf_bytes()
    assert path.parent == Path(settings.PRIVATE_ROOT) / "evidence"
    assert "成本核算" not in item.stored_path and len(path.name) == 32
    assert item.original_name == "成本核算.pdf"


def test_png_detected_from_content_even_when_named_pdf(maker_a, appeal_a):
    item = services.add_evidence(appeal_a.pk, user=maker_a, uploaded_file=upload("photo.pdf", files.png_bytes()))
    assert item.content_type == "image/png"


def test_xlsx_and_docx_accepted():
    assert detect_type(files.office_zip("xl/")).kind == "xlsx"
    assert detect_type(files.office_zip("word/")).kind == "docx"


def test_html_renamed_pdf_refused_with_clear_message(settings, maker_a, appeal_a):
    with pytest.raises(EvidenceRejected) as exc:
        services.add_evidence(appeal_a.pk, user=maker_a, uploaded_file=upload("报价单.pdf", files.HTML))
    assert "报价单.pdf" in exc.value.message and "HTML" in exc.value.message
    assert not appeal_a.evidence.exists()
    assert not (Path(settings.PRIVATE_ROOT) / "evidence").exists() or not any(
        (Path(settings.PRIVATE_ROOT) / "evidence").iterdir()
    )


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (files.SVG, "SVG"),
        (files.pdf_bytes() + b"<html><script>alert(1)</script></html>", "多格式"),
        (files.png_bytes() + b"<script>x</script>", "附加"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20 + b"\xff\xd9" + b"PK\x03\x04zip", "附加"),
        (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*", "EICAR"),
        (files.office_zip("xl/", {"xl/vbaProject.bin": b"macro"}), "宏"),
        (files.office_zip("other/"), "XLSX 或 DOCX"),
        (b"GIF89a....", "无法识别"),
        (b"", "为空"),
    ],
)
def test_hostile_or_unsupported_content_refused(data, needle):
    with pytest.raises(EvidenceRejected, match=needle):
        detect_type(data, "x.pdf")


def test_zip_bomb_ratio_refused():
    out = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/bomb.xml", b"0" * 5_000_000)
    with pytest.raises(EvidenceRejected, match="压缩"):
        detect_type(out.getvalue(), "bomb.xlsx")


def test_oversized_refused(settings, maker_a, appeal_a):
    settings.EVIDENCE_MAX_BYTES = 1000
    big = files.pdf_bytes() + b"%" * 2000 + b"\n%%EOF\n"
    with pytest.raises(EvidenceRejected, match="大小上限"):
        services.add_evidence(appeal_a.pk, user=maker_a, uploaded_file=upload("big.pdf", big))


def test_download_headers_for_owner(client, maker_a, appeal_a):
    item = services.add_evidence(appeal_a.pk, user=maker_a, uploaded_file=upload("cost.pdf", files.pdf_bytes()))
    client.force_login(maker_a)
    response = client.get(reverse("appeals:evidence_download", args=[item.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == files.pdf_bytes()


def test_download_by_regulator_allowed(client, regulator, maker_a, appeal_a):
    item = services.add_evidence(appeal_a.pk, user=maker_a, uploaded_file=upload("cost.pdf", files.pdf_bytes()))
    client.force_login(regulator)
    assert client.get(reverse("appeals:evidence_download", args=[item.pk])).status_code == 200


def test_download_as_other_manufacturer_is_404_and_anonymous_redirects(client, maker_a, maker_b, appeal_a):
    item = services.add_evidence(appeal_a.pk, user=maker_a, uploaded_file=upload("cost.pdf", files.pdf_bytes()))
    url = reverse("appeals:evidence_download", args=[item.pk])
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(maker_b)
    assert client.get(url).status_code == 404


def test_no_url_serves_the_private_folder(client, maker_a, appeal_a):
    item = services.add_evidence(appeal_a.pk, user=maker_a, uploaded_file=upload("cost.pdf", files.pdf_bytes()))
    client.force_login(maker_a)
    for url in (f"/private-not-served/{item.stored_path}", f"/static/{item.stored_path}", f"/media/{item.stored_path}"):
        assert client.get(url).status_code == 404
