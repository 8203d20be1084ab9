from django.db import models
from django.utils import timezone

from gonghui.audit.labels import action_label
from gonghui.common.ids import new_public_id


class AuditResult(models.TextChoices):
    SUCCESS = "success", "成功"
    DENIED = "denied", "拒绝"
    FAILED = "failed", "失败"


class AuditImmutable(Exception):
    pass


class AuditEventQuerySet(models.QuerySet):
    """Bulk UPDATE and DELETE bypass the model's save() and delete(): refused here too."""

    def update(self, **kwargs):
        raise AuditImmutable("audit events are append-only")

    def delete(self):
        raise AuditImmutable("audit events are append-only")


class AuditEvent(models.Model):
    """One append-only line of the audit trail.

    The actor is copied as plain values rather than a foreign key, so removing an account never touches the trail.
    On PostgreSQL a trigger refuses UPDATE and DELETE (migration 0002); the model refuses them on every database.
    """

    id = models.UUIDField("编号", primary_key=True, default=new_public_id, editable=False)
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor_kind = models.CharField("操作者类型", max_length=16)
    actor_id = models.UUIDField("操作者编号", null=True, blank=True)
    actor_label = models.CharField("操作者", max_length=150)
    actor_role = models.CharField("角色", max_length=32)
    actor_org_id = models.UUIDField("操作者所属组织", null=True, blank=True)
    actor_org_path = models.CharField("操作者组织路径", max_length=255, db_index=True)
    ip = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    action = models.CharField("操作", max_length=64, db_index=True)
    object_type = models.CharField("对象类型", max_length=64)
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    object_label = models.CharField("对象", max_length=200, blank=True)
    # Path of the organisation the object belongs to, so an auditor sees changes made to their subtree from above.
    object_org_path = models.CharField("对象所属组织路径", max_length=255, blank=True, db_index=True)
    result = models.CharField("结果", max_length=16, choices=AuditResult.choices, default=AuditResult.SUCCESS)
    details = models.JSONField("详情", default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-at"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        # The product's time (Asia/Shanghai), as on every page: near midnight UTC is already the next day there.
        at = timezone.localtime(self.at) if self.at else None
        return f"{at:%Y-%m-%d %H:%M:%S} {self.actor_label} {action_label(self.action)}" if at else self.action

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditImmutable("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditImmutable("audit events are append-only")
