"""What a page shows about a job's ticket: live progress and whether it is being retried (重试中)."""

from dataclasses import dataclass

from .models import JobTicket


@dataclass(frozen=True)
class TicketView:
    progress: int
    retrying: bool
    requeues: int


def ticket_view(kind: str, object_id: int) -> TicketView | None:
    row = (
        JobTicket.objects.filter(kind=kind, object_id=object_id, done_at__isnull=True)
        .values("progress", "requeues")
        .first()
    )
    if row is None:
        return None
    return TicketView(progress=row["progress"], retrying=row["requeues"] > 0, requeues=row["requeues"])
