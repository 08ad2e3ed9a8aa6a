"""Collections write tens of thousands of notices and dunning rows a run: the single-column indexes
Django made for four foreign keys are dropped (each column leads another index already); and a partial
index on the invoices still to pay, by customer and due date, for what collections read.

Only the indexes change in the database: Django would drop and re-add the foreign keys too, which
checks every existing row again under a lock."""

import django.db.models.deletion
from django.db import migrations, models

# (table, index Django named for the column's foreign key, column)
DROPPED = [
    ("billing_customercollections", "billing_customercollections_partner_id_80aed583", "partner_id"),
    ("billing_notice", "billing_notice_customer_id_0590e958", "customer_id"),
    ("billing_notice", "billing_notice_invoice_id_156cb9ac", "invoice_id"),
    ("billing_notice", "billing_notice_partner_id_e7d44744", "partner_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0034_collections_due_indexes"),
        ("partner_portal", "0013_customer_collections_terms_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"', reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")'
                )
                for table, index, column in DROPPED
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="customercollections",
                    name="partner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="partner_portal.partner",
                    ),
                ),
                migrations.AlterField(
                    model_name="notice",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="collection_notices",
                        to="partner_portal.customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="notice",
                    name="invoice",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notices",
                        to="billing.invoice",
                    ),
                ),
                migrations.AlterField(
                    model_name="notice",
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
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(
                condition=models.Q(("balance__gt", 0), ("status__in", ["issued", "partially_paid"])),
                fields=["customer", "due_date"],
                name="invoice_open_due_idx",
            ),
        ),
    ]
