"""Background jobs of the import pipelines. Each takes the id of a JobRun status row and is idempotent."""

from django_tasks import task


@task()
def roster_import(job_id: str) -> None:
    """会员名册导入 (see imports.roster.job). Safe to run again: it resumes at the last committed chunk."""
    from gonghui.imports.roster.job import roster_import_run

    roster_import_run(job_id)
