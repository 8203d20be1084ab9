import time

from django.core.management.base import BaseCommand

from gonghui.members.figures import rebuild_counts


class Command(BaseCommand):
    help = (
        "Recount every organisation's figures (members, movements per month, birth years, employers, declared "
        "totals, data quality) from the source tables. After a bulk load outside the services, or on demand."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        orgs = rebuild_counts()
        self.stdout.write(f"已重算 {orgs} 个组织的统计数（{time.perf_counter() - started:.1f} 秒）。")
