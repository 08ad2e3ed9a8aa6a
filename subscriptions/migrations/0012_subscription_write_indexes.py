"""A collections run suspends thousands of subscriptions at a time, and every index of the table takes
a new entry for each: two that others cover are dropped, the single-column index on the partner (it
leads every other index) and (partner, status) (a prefix of (partner, status, id)). Only the indexes
change in the database: Django would drop and re-add the foreign key too, which checks every row again."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partner_portal", "0014_audit_partner_index"),
        ("subscriptions", "0011_subscription_change_state_index"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="subscription",
            name="subscription_status_idx",
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "subscriptions_subscription_partner_id_656d8929"',
                    reverse_sql='CREATE INDEX "subscriptions_subscription_partner_id_656d8929" '
                    'ON "subscriptions_subscription" ("partner_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="subscription",
                    name="partner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="partner_portal.partner",
                    ),
                ),
            ],
        ),
    ]
