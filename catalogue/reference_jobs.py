"""Reference-price uploads (省际挂网价) imported by the worker, like catalogues (issue 11).

The web request only stores the file and opens the job; the parse — of a file nobody has checked
yet — happens in the worker (and there in the ingest sandbox), never in a gunicorn worker.
"""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import record
from jobs.enqueue import enqueue

from .ingest.errors import IngestRejected
from .ingest.pipeline import prepare_reference
from .ingest.reference_load import store_reference_prices
from .models import ImportStatus, ReferencePrice, ReferencePriceSet
from .services import ALLOWED_SUFFIXES, MAX_STORED_ERRORS, store_upload
from .vocabulary import current_vocabulary


def start_reference_import(uploaded_file: Any, *, label: str = "", user: Any = None) -> ReferencePriceSet:
    """Store the upload, create a PENDING set and queue its import after commit."""
    name = Path(getattr(uploaded_file, "name", "") or "reference.csv").name
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise IngestRejected(_("仅支持 CSV 或 XLSX 文件"))
    relative, sha256, size = store_upload(uploaded_file, suffix)
    actor = user if getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        price_set = ReferencePriceSet.objects.create(
            label=label, source_name=name[:255], source_hash=sha256, source_path=relative, uploaded_by=actor
        )
        record(actor=user, action="reference_prices.upload", obj=price_set, after={"file": name, "bytes": size})
        enqueue("reference.import", price_set.pk)
    return price_set


def process_reference_set(set_id: int) -> ReferencePriceSet:
    """Parse and store one uploaded set. Idempotent: a finished set is left alone, a rerun replaces rows."""
    with transaction.atomic():
        price_set = ReferencePriceSet.objects.select_for_update().get(pk=set_id)
        if price_set.status not in (ImportStatus.PENDING, ImportStatus.IMPORTING):
            return price_set
        price_set.status = ImportStatus.IMPORTING
        price_set.save(update_fields=["status"])
    try:
        frame = prepare_reference(Path(settings.PRIVATE_ROOT) / price_set.source_path, current_vocabulary())
    except IngestRejected as rejection:
        with transaction.atomic():
            price_set = ReferencePriceSet.objects.select_for_update().get(pk=set_id)
            price_set.status = ImportStatus.REJECTED
            price_set.errors = [e.as_dict() for e in rejection.errors[:MAX_STORED_ERRORS]]
            price_set.message = rejection.message
            price_set.save(update_fields=["status", "errors", "message"])
            record(
                actor=price_set.uploaded_by,
                action="reference_prices.import_rejected",
                obj=price_set,
                reason=rejection.message,
            )
        return price_set
    with transaction.atomic():
        price_set = ReferencePriceSet.objects.select_for_update().get(pk=set_id)
        ReferencePrice.objects.filter(price_set=price_set).delete()
        store_reference_prices(price_set.pk, frame)
        price_set.status = ImportStatus.ACTIVE
        price_set.row_count = len(frame)
        price_set.message = ""
        price_set.save(update_fields=["status", "row_count", "message"])
        record(actor=price_set.uploaded_by, action="reference_prices.import", obj=price_set,
               after={"row_count": len(frame)})  # fmt: skip
    return price_set


def mark_failed(set_id: int, message: str) -> None:
    ReferencePriceSet.objects.filter(pk=set_id, status__in=[ImportStatus.PENDING, ImportStatus.IMPORTING]).update(
        status=ImportStatus.FAILED, message=message[:2000]
    )
