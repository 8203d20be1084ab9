from django.db import models

from gonghui.common.ids import new_public_id


class JobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "进行中"
    SUCCEEDED = "succeeded", "已完成"
    FAILED = "failed", "失败"
    CANCELLED = "cancelled", "已取消"


class JobRun(models.Model):
    """The status row of one background job: what the UI polls for phase and progress.

    The requesting actor is kept as a snapshot so the job acts with exactly the requester's scope and role.
    """

    id = models.UUIDField(primary_key=True, default=new_public_id, editable=False)
    kind = models.CharField("任务类型", max_length=32)
    title = models.CharField("任务", max_length=200)
    status = models.CharField("状态", max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    phase = models.CharField("阶段", max_length=100, blank=True)
    done = models.PositiveIntegerField("已处理", default=0)
    total = models.PositiveIntegerField("总数", default=0)
    params = models.JSONField("参数", default=dict, blank=True)
    actor_snapshot = models.JSONField(default=dict, editable=False)
    requested_by_id = models.UUIDField(null=True, blank=True, db_index=True)
    requested_by_label = models.CharField("发起人", max_length=150)
    result_file = models.FileField("结果文件", upload_to="jobs/%Y/%m/", blank=True)
    result_name = models.CharField("文件名", max_length=200, blank=True)
    result = models.JSONField("结果", default=dict, blank=True)
    error = models.TextField("错误信息", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def percent(self) -> int:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        return int(self.done * 100 / self.total) if self.total else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
