"""python manage.py detect CATALOGUE_ID [--rules VERSION] [--reference-set ID]  (FORMATS.md §4)."""

from django.core.management.base import BaseCommand, CommandError

from catalogue.models import CatalogueVersion, ReferencePriceSet
from config.gc_pause import cycle_collector_paused
from pricing.engine.rounds import DetectionRefused, create_round, latest_reference_set, run_detection
from pricing.models import RuleSet


class Command(BaseCommand):
    help = "创建纠偏批次并运行全部规则，最后一行输出批次编号"
    # a data command: the system checks (≈ 0.7 s of imports per run) belong to `manage.py check`/deploys
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("catalogue_id", type=int)
        parser.add_argument("--rules", type=int, default=None, help="规则集版本（默认最新）")
        parser.add_argument("--reference-set", type=int, default=None, help="省际挂网价编号（默认最新）")
        parser.add_argument("--title", default="", help="批次名称")

    def handle(self, *args, catalogue_id, rules, reference_set, title, **options):
        try:
            version = CatalogueVersion.objects.get(pk=catalogue_id)
        except CatalogueVersion.DoesNotExist as exc:
            raise CommandError(f"目录版本 {catalogue_id} 不存在") from exc
        rule_set = None
        if rules is not None:
            rule_set = RuleSet.objects.filter(version=rules).first()
            if rule_set is None:
                raise CommandError(f"规则集版本 {rules} 不存在")
        if reference_set is not None:
            ref = ReferencePriceSet.objects.filter(pk=reference_set).first()
            if ref is None:
                raise CommandError(f"省际挂网价 {reference_set} 不存在")
        else:
            ref = latest_reference_set()
        try:
            round_ = create_round(
                catalogue_version=version, title=title, user=None, rule_set=rule_set, reference_set=ref, enqueue=False
            )
            with cycle_collector_paused():
                count = run_detection(round_.pk)
        except DetectionRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"纠偏记录 {count} 条")
        self.stdout.write(str(round_.pk))
