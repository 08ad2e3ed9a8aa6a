"""An entitlement's kind becomes a reference to its catalogue row. The column and its values stay as they were
(the type's code), so entitlements and escalations recorded before, Gold and Silver included, read as before."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("escalation", "0007_entitlement_types_as_data")]

    operations = [
        migrations.AlterField(
            model_name="entitlement",
            name="kind",
            field=models.ForeignKey(
                db_column="kind", on_delete=models.deletion.PROTECT, related_name="entitlements",
                to="escalation.entitlementtype", to_field="code", verbose_name="tier or competency",
            ),
        ),
    ]  # fmt: skip
