"""python manage.py import_reference_prices PATH (FORMATS.md §4): prints the set id on the last line."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalogue.ingest.errors import IngestRejected
from catalogue.services import import_reference_prices, rejection_lines
from config.gc_pause import cycle_collector_paused


class Command(BaseCommand):
    help = "导入省际挂网价（四同比价用），成功时最后一行输出价格集 ID"
    # a data command: the system checks (≈ 0.7 s of imports per run) belong to `manage.py check`/deploys
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--label", default="")

    def handle(self, *args, path: Path, label: str, **options):
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        try:
            with cycle_collector_paused():
                price_set = import_reference_prices(path, label=label)
        except IngestRejected as rejected:
            for line in rejection_lines(rejected.errors):
                self.stderr.write(line)
            raise SystemExit(1) from None
        self.stdout.write(f"省际挂网价已导入：{price_set.row_count} 行")
        self.stdout.write(str(price_set.pk))
