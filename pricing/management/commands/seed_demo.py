"""python manage.py seed_demo --size 20000 --seed 42: demo users, province catalogue, reference prices (idempotent)."""

from django.core.management.base import BaseCommand

from accounts.models import User
from catalogue.demo_data import DEMO_LOGINS, DEMO_PASSWORD, seed_demo
from pricing.demo import seed_demo_rounds


class Command(BaseCommand):
    help = "生成并导入演示省份目录、省际挂网价和演示账号（可重复执行）"

    def add_arguments(self, parser):
        parser.add_argument("--size", type=int, default=20000)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, size: int, seed: int, **options):
        version, price_set = seed_demo(size, seed)
        companies = list(User.objects.filter(role="manufacturer").values_list("company_id", flat=True))
        published, draft = seed_demo_rounds(version, price_set, demo_companies=companies)
        self.stdout.write(
            f"演示目录 #{version.pk}「{version.label}」：{version.row_count} 行（挂网 {version.active_count}）；"
            f"省际挂网价 #{price_set.pk}：{price_set.row_count} 行"
        )
        for round_ in (published, draft):
            self.stdout.write(
                f"纠偏批次 #{round_.pk}「{round_.title}」：{round_.flag_count} 条纠偏记录，"
                f"状态 {round_.get_status_display()}"
            )
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        for username, role in DEMO_LOGINS:
            self.stdout.write(f"  {username:<10} {role}")
