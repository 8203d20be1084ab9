import time

from django.core.management.base import BaseCommand

from gonghui.members.figures import failing_refresh
from gonghui.members.services import quality_recheck


class Command(BaseCommand):
    help = (
        "Re-run every person's own data-quality checks (ages move on, rules change) and refresh the 准确率 figures. "
        "Run nightly."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        changed = quality_recheck()
        failing_refresh()
        self.stdout.write(
            f"已复核会员数据，{changed} 条记录的检查结果有变化（{time.perf_counter() - started:.1f} 秒）。"
        )
