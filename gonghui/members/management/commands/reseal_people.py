import time

from django.core.management.base import BaseCommand

from gonghui.members.services import people_reseal


class Command(BaseCommand):
    help = (
        "Key rotation: re-encrypt personal numbers with the current FIELD_ENCRYPTION_KEY and rebuild the blind "
        "indexes with the current BLIND_INDEX_KEY (see docs/registry.md)."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        count = people_reseal()
        self.stdout.write(f"已重新加密 {count} 条人员记录（{time.perf_counter() - started:.1f} 秒）。")
