"""Every write of the portal adds audit events: the single-column index Django made for their partner
is dropped (the partner leads the audit log's three indexes already). Only the index changes in the
database: Django would drop and re-add the foreign key too, which checks every existing row again."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partner_portal", "0013_customer_collections_terms_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "partner_portal_auditevent_partner_id_6eb7b8ce"',
                    reverse_sql='CREATE INDEX "partner_portal_auditevent_partner_id_6eb7b8ce" '
                    'ON "partner_portal_auditevent" ("partner_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
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
