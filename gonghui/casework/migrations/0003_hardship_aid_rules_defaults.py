"""The default 困难帮扶审批标准: 深度困难 is filed only with the parent union's approval; a single grant above 2,000 元
(相对困难, 深度困难) or 3,000 元 (意外致困, a one-off blow) needs it too. The city federation changes them in the back
office each year; a later run leaves changed rows as they are."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = [
    ("deep", True, Decimal("2000.00")),
    ("relative", False, Decimal("2000.00")),
    ("accidental", False, Decimal("3000.00")),
]


def load_defaults(apps, schema_editor):
    rule = apps.get_model("casework", "HardshipAidRule")
    for tier, file_needs_approval, grant_limit in DEFAULTS:
        rule.objects.get_or_create(
            tier=tier,
            defaults={"file_needs_approval": file_needs_approval, "grant_limit": grant_limit, "updated_by": "默认标准"},
        )


class Migration(migrations.Migration):
    dependencies = [("casework", "0002_hardship_approval")]

    operations = [migrations.RunPython(load_defaults, migrations.RunPython.noop)]
