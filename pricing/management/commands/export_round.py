"""python manage.py export_round ROUND_ID --format csv|xlsx --output PATH [--status all|confirmed|final]."""

from django.core.management.base import BaseCommand, CommandError

from config.cli import output_path, writing
from pricing.models import CorrectionRound
from pricing.review.exports import FORMATS, STATUS_FILTERS, ExportError, export_round


class Command(BaseCommand):
    help = "导出纠偏清单（CSV 或 XLSX）"

    def add_arguments(self, parser):
        parser.add_argument("round_id", type=int)
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument("--output", required=True)
        parser.add_argument("--status", default="all", choices=STATUS_FILTERS)

    def handle(self, *args, round_id, format, output, status, **options):
        path = output_path(output)
        round_ = CorrectionRound.objects.filter(pk=round_id).first()
        if round_ is None:
            raise CommandError(f"纠偏批次 {round_id} 不存在")
        try:
            with writing(path):
                count = export_round(round_, fmt=format, path=path, status=status)
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已导出 {count} 条 → {output}")
