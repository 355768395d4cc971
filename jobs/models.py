"""The durable side of a background job (后台任务台账).

Each job's own row (a catalogue version, a round's detection, an export …) says what the job is and
how it ended. Its JobTicket says whether it still has to run: created in the same transaction that
creates the job, beaten by the running task, closed when the task ends. A ticket that stays open
with no message in the broker, or whose runner stopped beating, is re-sent by the sweeper.
"""

from django.db import models


class JobTicket(models.Model):
    kind = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    enqueued_at = models.DateTimeField()
    sent = models.BooleanField(default=False)  # the broker accepted the last message
    started_at = models.DateTimeField(null=True, blank=True)
    beat_at = models.DateTimeField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    requeues = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="one_ticket_per_job")]
        indexes = [models.Index(fields=["done_at", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind}#{self.object_id}"
