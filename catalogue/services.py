"""Catalogue writes: importing catalogue files and reference prices (the only code that changes them).

An import never shows half its rows: listings are staged under a version that is not ACTIVE and the
version is activated (status, counts, audit) in one final transaction. A rerun of an interrupted
import deletes what was staged and redoes it, so a retry completes exactly once.
"""

import contextlib
import hashlib
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from jobs.enqueue import enqueue

from .ingest.errors import DuplicateImport, IngestRejected, RowError
from .ingest.load import check_references, delete_staged, stage_listings
from .ingest.pipeline import prepare_catalogue, prepare_reference
from .ingest.reference_load import store_reference_prices
from .models import CatalogueVersion, ImportStatus, Listing, ReferencePriceSet
from .profiles import latest_profile, vocabulary_with
from .vocabulary import current_vocabulary

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
MAX_STORED_ERRORS = 10_000  # the error report keeps this many rows; error_count has the total
ALLOWED_SUFFIXES = (".csv", ".xlsx")
DEFAULT_PROVINCE = "湖南"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _check_not_duplicate(source_hash: str, province: str, exclude_id: int | None = None) -> None:
    """Same file for the same province already active (or on its way) → refuse with a clear message."""
    existing = (
        CatalogueVersion.objects.filter(
            source_hash=source_hash,
            province=province,
            status__in=[ImportStatus.ACTIVE, ImportStatus.PENDING, ImportStatus.IMPORTING],
        )
        .exclude(pk=exclude_id)
        .first()
    )
    if existing is not None:
        if existing.status == ImportStatus.ACTIVE:
            message = _("该文件已导入为%(province)s目录版本 #%(id)d，未重复导入")
        else:
            message = _("该文件正在导入（%(province)s目录版本 #%(id)d），未重复导入")
        raise DuplicateImport(message % {"province": province, "id": existing.pk})


def _source_file(version: CatalogueVersion) -> Path:
    path = Path(version.source_path)
    return path if path.is_absolute() else Path(settings.PRIVATE_ROOT) / path


def _set_progress(version_id: int, percent: int) -> None:
    """Progress only moves forward (a retry never shows a bar going backwards)."""
    CatalogueVersion.objects.filter(pk=version_id, progress__lt=percent).update(progress=percent)


@contextlib.contextmanager
def _import_lock(version_id: int) -> Iterator[bool]:
    """On PostgreSQL, one worker per version (a redelivered task waits its turn, then sees ACTIVE)."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = 0x43415400000000 + version_id
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield True
    finally:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", [key])


def import_catalogue(
    path: Path,
    *,
    province: str = DEFAULT_PROVINCE,
    label: str = "",
    user: Any = None,
    source_name: str | None = None,
    sheet: str | None = None,
    profile: str | None = None,
) -> CatalogueVersion:
    """Import a catalogue file synchronously. Raises IngestRejected (with every row error) when rejected.

    `profile` names the import profile to apply (FORMATS.md §5.5); by default the province's own."""
    path = Path(path)
    import_profile = latest_profile(profile or province)
    if profile and import_profile is None:
        raise IngestRejected(_("没有名为「%(name)s」的导入配置") % {"name": profile})
    source_hash = file_sha256(path)
    _check_not_duplicate(source_hash, province)
    with transaction.atomic():
        version = CatalogueVersion.objects.create(
            import_profile=import_profile,
            province=province,
            label=label,
            source_name=source_name or path.name,
            source_path=str(path.resolve()),
            source_hash=source_hash,
            uploaded_by=user if getattr(user, "is_authenticated", False) else None,
        )
    try:
        version, rejection = _run(version.pk, sheet=sheet)
    except Exception as exc:
        mark_failed(version.pk, str(exc))
        raise
    if rejection is not None:
        raise rejection
    if version.status != ImportStatus.ACTIVE:
        raise RuntimeError(version.message or f"import of version {version.pk} ended {version.status}")
    return version


def store_upload(uploaded_file: Any, suffix: str) -> tuple[str, str, int]:
    """Write an upload under PRIVATE_ROOT/uploads/<uuid><suffix>, refusing it past the size limit.

    Returns (path relative to PRIVATE_ROOT, sha256 hex, bytes)."""
    relative = Path("uploads") / f"{uuid.uuid4().hex}{suffix}"
    target = Path(settings.PRIVATE_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with target.open("wb") as out:
        for chunk in uploaded_file.chunks():
            size += len(chunk)
            if size > settings.CATALOGUE_UPLOAD_MAX_BYTES:
                out.close()
                target.unlink(missing_ok=True)
                raise IngestRejected(_("文件过大，超过上传上限"))
            digest.update(chunk)
            out.write(chunk)
    return str(relative), digest.hexdigest(), size


def start_catalogue_import(uploaded_file: Any, *, province: str, label: str = "", user: Any = None) -> CatalogueVersion:
    """Store an upload under PRIVATE_ROOT/uploads, create a PENDING version, enqueue the import on commit."""
    name = Path(getattr(uploaded_file, "name", "") or "upload.csv").name
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise IngestRejected(_("仅支持 CSV 或 XLSX 文件"))
    relative, sha256, size = store_upload(uploaded_file, suffix)
    target = Path(settings.PRIVATE_ROOT) / relative
    try:
        _check_not_duplicate(sha256, province)
    except DuplicateImport:
        target.unlink(missing_ok=True)
        raise
    with transaction.atomic():
        version = CatalogueVersion.objects.create(
            import_profile=latest_profile(province),
            province=province,
            label=label,
            source_name=name[:255],
            source_path=str(relative),
            source_hash=sha256,
            uploaded_by=user if getattr(user, "is_authenticated", False) else None,
        )
        record(actor=user, action="catalogue.upload", obj=version, after={"file": name, "bytes": size})
        enqueue("catalogue.import", version.pk)  # ticket now, message after commit (jobs)
    return version


def reimport_version(version: CatalogueVersion, *, user: Any = None) -> CatalogueVersion:
    """Import a rejected version's stored file again (e.g. after its province's profile changed)."""
    from .tasks import import_catalogue_version

    if version.status != ImportStatus.REJECTED:
        raise IngestRejected(_("只有校验未通过的目录版本可以重新导入"))
    _check_not_duplicate(version.source_hash, version.province)
    with transaction.atomic():
        again = CatalogueVersion.objects.create(
            import_profile=latest_profile(version.province),
            province=version.province,
            label=version.label,
            source_name=version.source_name,
            source_path=version.source_path,
            source_hash=version.source_hash,
            uploaded_by=user if getattr(user, "is_authenticated", False) else None,
        )
        record(
            actor=user,
            action="catalogue.reimport",
            obj=again,
            before={"version": version.pk},
            after={"profile": str(again.import_profile) if again.import_profile else ""},
        )
        transaction.on_commit(lambda: import_catalogue_version.delay(again.pk))
    return again


def process_catalogue_version(version_id: int) -> CatalogueVersion:
    """Run (or finish) the import of one version. Idempotent: an ACTIVE/REJECTED version is left alone."""
    version, _rejection = _run(version_id)
    return version


def _run(version_id: int, *, sheet: str | None = None) -> tuple[CatalogueVersion, IngestRejected | None]:
    with _import_lock(version_id):
        with transaction.atomic():
            version = CatalogueVersion.objects.select_for_update().get(pk=version_id)
            if version.status in (ImportStatus.ACTIVE, ImportStatus.REJECTED, ImportStatus.FAILED):
                return version, None
            if version.attempts >= MAX_ATTEMPTS:
                return _fail(version, _("导入已尝试 %(n)d 次仍未完成") % {"n": version.attempts}), None
            version.attempts += 1
            version.status = ImportStatus.IMPORTING
            version.save(update_fields=["attempts", "status"])
        delete_staged(version_id)  # whatever an interrupted attempt left behind
        try:
            _check_not_duplicate(version.source_hash, version.province, exclude_id=version_id)
            profile = version.import_profile
            data = prepare_catalogue(
                _source_file(version),
                vocabulary_with(current_vocabulary(), profile),
                sheet=sheet,
                on_progress=lambda p: _set_progress(version_id, p),
                header_map=profile.header_map if profile else None,
            )
        except IngestRejected as rejection:
            return _reject(version_id, rejection), rejection
        total, manufacturer_ids = stage_listings(
            version_id, data, on_progress=lambda done, n: _set_progress(version_id, 30 + int(65 * done / max(n, 1)))
        )
        frame = data.frame
        counts = {
            "row_count": total,
            "active_count": int(frame["is_active"].sum()),
            "warning_count": int(sum(w["count"] for w in data.warnings)),
        }
        return _activate(version_id, counts, data.warnings, manufacturer_ids), None


def _activate(
    version_id: int, counts: dict[str, int], warnings: list[dict], manufacturer_ids: set[int]
) -> CatalogueVersion:
    """The one transaction that makes a staged version visible."""
    with transaction.atomic():
        version = CatalogueVersion.objects.select_for_update().get(pk=version_id)
        staged = Listing.objects.filter(version_id=version_id).count()
        if staged != counts["row_count"]:
            raise RuntimeError(f"version {version_id}: staged {staged} rows, expected {counts['row_count']}")
        check_references(version_id, manufacturer_ids)
        for field, value in counts.items():
            setattr(version, field, value)
        version.warnings = warnings
        version.status = ImportStatus.ACTIVE
        version.progress = 100
        version.activated_at = timezone.now()
        version.message = ""
        version.save()
        record(
            actor=version.uploaded_by,
            action="catalogue.import",
            obj=version,
            before={"status": ImportStatus.IMPORTING},
            after={"status": ImportStatus.ACTIVE, **counts, "source_hash": version.source_hash},
        )
    return version


def _reject(version_id: int, rejection: IngestRejected) -> CatalogueVersion:
    with transaction.atomic():
        version = CatalogueVersion.objects.select_for_update().get(pk=version_id)
        delete_staged(version_id)
        version.status = ImportStatus.REJECTED
        version.errors = [e.as_dict() for e in rejection.errors[:MAX_STORED_ERRORS]]
        version.error_count = len(rejection.errors)
        version.message = rejection.message
        version.progress = 100
        version.save()
        record(
            actor=version.uploaded_by,
            action="catalogue.import_rejected",
            obj=version,
            after={"status": ImportStatus.REJECTED, "error_count": version.error_count},
            reason=rejection.message,
        )
    return version


def _fail(version: CatalogueVersion, message: str) -> CatalogueVersion:
    version.status = ImportStatus.FAILED
    version.message = message[:2000]
    version.save(update_fields=["status", "message"])
    record(actor=version.uploaded_by, action="catalogue.import_failed", obj=version, reason=message[:2000])
    return version


def mark_failed(version_id: int, message: str) -> CatalogueVersion:
    """Give up on a version (permanent error or retries exhausted): staged rows removed, FAILED."""
    with transaction.atomic():
        version = CatalogueVersion.objects.select_for_update().get(pk=version_id)
        if version.status in (ImportStatus.ACTIVE, ImportStatus.REJECTED):
            return version
        delete_staged(version_id)
        return _fail(version, message)


def import_reference_prices(
    path: Path, *, label: str = "", user: Any = None, source_name: str | None = None
) -> ReferencePriceSet:
    """Import other provinces' prices (省际挂网价, FORMATS.md §2) in one transaction (COPY on PostgreSQL)."""
    path = Path(path)
    source_hash = file_sha256(path)
    actor = user if getattr(user, "is_authenticated", False) else None
    try:
        frame = prepare_reference(path, current_vocabulary())
    except IngestRejected as rejection:
        with transaction.atomic():
            price_set = ReferencePriceSet.objects.create(
                label=label,
                source_name=source_name or path.name,
                source_hash=source_hash,
                uploaded_by=actor,
                status=ImportStatus.REJECTED,
                errors=[e.as_dict() for e in rejection.errors[:MAX_STORED_ERRORS]],
            )
            record(actor=user, action="reference_prices.import_rejected", obj=price_set, reason=rejection.message)
        raise
    with transaction.atomic():
        price_set = ReferencePriceSet.objects.create(
            label=label,
            source_name=source_name or path.name,
            source_hash=source_hash,
            uploaded_by=actor,
            status=ImportStatus.ACTIVE,
            row_count=len(frame),
        )
        store_reference_prices(price_set.pk, frame)
        record(actor=user, action="reference_prices.import", obj=price_set, after={"row_count": len(frame)})
    return price_set


def rejection_lines(errors: list[RowError], limit: int = 50) -> list[str]:
    """Human-readable error lines: the first `limit`, then a count line (none for a file-level error)."""
    if len(errors) == 1 and errors[0].row == 0:
        return [errors[0].message]
    lines = [str(e) for e in errors[:limit]]
    if len(errors) > limit:
        lines.append(_("……共 %(n)d 处错误（仅显示前 %(limit)d 处）") % {"n": len(errors), "limit": limit})
    else:
        lines.append(_("共 %(n)d 处错误") % {"n": len(errors)})
    return lines
