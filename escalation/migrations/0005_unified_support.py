"""Unified Support, the enterprise successor of Premier: a tier opened by a recorded Unified contract."""

from django.db import migrations, models

SERVICES_HUB = {
    "global": "Services Hub or your Customer Success Account Manager; phone as given in your Unified contract",
    "us_government": "Services Hub (US Government) or your Customer Success Account Manager",
    "germany": "Services Hub or your Customer Success Account Manager (Microsoft Cloud Germany)",
}
UNIFIED = {
    "code": "unified", "kind": "technical", "rank": 1, "name": "Unified Support",
    "covers": "Technical problems across Microsoft cloud and on-premises products, with proactive services and "
    "severity-based response (the enterprise successor of Premier).",
    "requires": "A paid Microsoft Unified Support contract; inactive until one is recorded.",
    "channels": SERVICES_HUB,
}  # fmt: skip


def seed(apps, schema_editor):
    SupportTier = apps.get_model("escalation", "SupportTier")
    SupportTier.objects.update_or_create(code=UNIFIED["code"], defaults=UNIFIED)


def unseed(apps, schema_editor):
    apps.get_model("escalation", "SupportTier").objects.filter(code="unified").delete()


class Migration(migrations.Migration):
    dependencies = [("escalation", "0004_support_tier_offering_dates")]
    operations = [
        migrations.AlterField(
            model_name="entitlement",
            name="kind",
            field=models.CharField(
                choices=[
                    ("premier", "Premier Support for Partners contract"),
                    ("advanced", "Advanced Support for Partners contract"),
                    ("unified", "Unified Support contract"),
                    ("gold", "Gold competency"),
                    ("silver", "Silver competency"),
                ],
                max_length=10,
                verbose_name="tier or competency",
            ),
        ),
        migrations.AlterField(
            model_name="supporttier",
            name="code",
            field=models.CharField(
                choices=[
                    ("business", "Business support"),
                    ("premier", "Premier Support for Partners"),
                    ("advanced", "Advanced Support for Partners"),
                    ("unified", "Unified Support"),
                    ("signature_cloud", "Signature Cloud Support"),
                ],
                max_length=20,
                unique=True,
            ),
        ),
        migrations.RunPython(seed, unseed),
    ]
