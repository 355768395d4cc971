"""python manage.py check_compliance ROUND_ID CATALOGUE_ID --output PATH [--status final|confirmed|all]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from compliance import services
from compliance.errors import ComplianceError
from compliance.exports import write_check_csv
from compliance.models import ComplianceStatus


class Command(BaseCommand):
    help = "Check a later catalogue version against a correction round; write the compliance CSV (UTF-8 BOM)."

    def add_arguments(self, parser):
        parser.add_argument("round_id", type=int)
        parser.add_argument("catalogue_id", type=int)
        parser.add_argument("--output", required=True)
        parser.add_argument("--status", choices=["final", "confirmed", "all"], default=None)

    def handle(self, *args, **opts):
        path = Path(opts["output"])
        if not path.parent.is_dir():
            raise CommandError(_("输出目录不存在：%(p)s") % {"p": path.parent})
        try:
            check = services.create_check(opts["round_id"], opts["catalogue_id"], scope=opts["status"])
            check = services.run_check(check.pk)
        except ComplianceError as exc:
            raise CommandError(exc.message) from None
        try:
            write_check_csv(check.results.order_by("id"), path)
        except OSError as exc:
            raise CommandError(_("无法写入输出文件 %(p)s：%(e)s") % {"p": path, "e": exc.strerror or exc}) from None
        summary = " ".join(f"{s.value}={check.counts.get(s.value, 0)}" for s in ComplianceStatus)
        self.stdout.write(summary)
