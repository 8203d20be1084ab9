from django.core.management.base import BaseCommand

from gonghui.imports.tasks import roster_import
from gonghui.jobs.models import JobRun, JobStatus


class Command(BaseCommand):
    help = (
        "Queue again every roster import that is queued or was running when its worker stopped; each resumes at its "
        "last committed chunk. Run when the job worker starts (make run does)."
    )

    def handle(self, *args, **options):
        unfinished = JobRun.objects.filter(kind="roster_import", status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
        count = 0
        for job_id in unfinished.values_list("id", flat=True):
            roster_import.enqueue(str(job_id))
            count += 1
        self.stdout.write(f"已重新排队 {count} 个未完成的名册导入任务。")
