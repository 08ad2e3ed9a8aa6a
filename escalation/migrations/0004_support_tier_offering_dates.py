"""Microsoft's offering dates on the support tiers: Signature Cloud Support ended with the Gold and Silver
competencies on 30 September 2022 (Microsoft Cloud Partner Program). Existing entitlements and escalations
keep pointing at it; routing no longer picks it after that day."""

import datetime as dt

from django.db import migrations, models

RETIRED = {
    "signature_cloud": {
        "valid_until": dt.date(2022, 9, 30),
        "retired": True,
        "requires": "A Gold or Silver competency (included with it). Retired: Microsoft ended Gold and Silver "
        "competencies, and with them Signature Cloud Support, on 30 September 2022.",
    },
}


def seed(apps, schema_editor):
    SupportTier = apps.get_model("escalation", "SupportTier")
    for code, values in RETIRED.items():
        SupportTier.objects.filter(code=code).update(**values)


def unseed(apps, schema_editor):
    SupportTier = apps.get_model("escalation", "SupportTier")
    SupportTier.objects.filter(code__in=RETIRED).update(valid_until=None, retired=False)


class Migration(migrations.Migration):
    dependencies = [("escalation", "0003_escalation_breach_notice")]
    operations = [
        migrations.AddField(
            model_name="supporttier", name="valid_from", field=models.DateField(blank=True, null=True, verbose_name="valid from")
        ),
        migrations.AddField(
            model_name="supporttier", name="valid_until", field=models.DateField(blank=True, null=True, verbose_name="valid until")
        ),
        migrations.AddField(
            model_name="supporttier", name="retired", field=models.BooleanField(default=False, verbose_name="retired")
        ),
        migrations.RunPython(seed, unseed),
    ]
