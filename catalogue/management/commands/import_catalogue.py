"""python manage.py import_catalogue PATH [--province NAME] [--label TEXT] (FORMATS.md §4)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalogue.ingest.errors import IngestRejected
from catalogue.services import DEFAULT_PROVINCE, import_catalogue, rejection_lines
from config.gc_pause import cycle_collector_paused


class Command(BaseCommand):
    help = "导入挂网药品目录文件（CSV/XLSX），成功时最后一行输出目录版本 ID"
    # a data command: the system checks (≈ 0.7 s of imports per run) belong to `manage.py check`/deploys
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--province", default=DEFAULT_PROVINCE)
        parser.add_argument("--label", default="")
        parser.add_argument("--sheet", default=None, help="XLSX sheet name (default: the first sheet)")
        parser.add_argument("--profile", default=None, help="import profile name (default: the province's own)")

    def handle(self, *args, path: Path, province: str, label: str, sheet: str | None, profile: str | None, **options):
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        try:
            with cycle_collector_paused():
                version = import_catalogue(path, province=province, label=label, sheet=sheet, profile=profile)
        except IngestRejected as rejected:
            for line in rejection_lines(rejected.errors):
                self.stderr.write(line)
            raise SystemExit(1) from None
        self.stdout.write(
            f"{version.province} 目录已导入：{version.row_count} 行（挂网 {version.active_count}），"
            f"警告 {version.warning_count} 行"
        )
        self.stdout.write(str(version.pk))
