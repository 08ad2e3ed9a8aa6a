"""The collections tables check a row's customer and partner as one foreign key, (customer, partner)
to the customer's (id, partner): a row can no longer name a customer of another partner, and each row
the run inserts costs one check at commit instead of two (a first run inserts hundreds of thousands).

Django keeps the two fields; only their single-column constraints go (db_constraint=False). The
composite keys are added on PostgreSQL, NOT VALID and then validated, so existing rows are checked
without blocking writes; SQLite (the embedded mode) keeps no foreign keys of its own for them."""

import django.db.models.deletion
from django.db import migrations, models

TABLES = ("billing_notice", "billing_invoicedunning", "billing_customerdunning", "billing_customercollections")


def _key(table: str) -> str:
    return f"{table.removeprefix('billing_')}_customer_partner_fk"


def add_keys(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f'ALTER TABLE "{table}" ADD CONSTRAINT "{_key(table)}" FOREIGN KEY ("customer_id", "partner_id") '
            'REFERENCES "partner_portal_customer" ("id", "partner_id") DEFERRABLE INITIALLY DEFERRED NOT VALID'
        )
        schema_editor.execute(f'ALTER TABLE "{table}" VALIDATE CONSTRAINT "{_key(table)}"')


def drop_keys(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{_key(table)}"')


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0035_collections_write_indexes"),
        ("partner_portal", "0015_customer_id_partner_key"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customercollections",
            name="customer",
            field=models.OneToOneField(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="collections_summary",
                to="partner_portal.customer",
            ),
        ),
        migrations.AlterField(
            model_name="customercollections",
            name="partner",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="partner_portal.partner",
            ),
        ),
        migrations.AlterField(
            model_name="customerdunning",
            name="customer",
            field=models.OneToOneField(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="dunning",
                to="partner_portal.customer",
            ),
        ),
        migrations.AlterField(
            model_name="customerdunning",
            name="partner",
            field=models.ForeignKey(
                db_constraint=False,
                
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="partner_portal.partner",
            ),
        ),
        migrations.AlterField(
            model_name="invoicedunning",
            name="customer",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="partner_portal.customer",
            ),
        ),
        migrations.AlterField(
            model_name="invoicedunning",
            name="partner",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="partner_portal.partner",
            ),
        ),
        migrations.AlterField(
            model_name="notice",
            name="customer",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="collection_notices",
                to="partner_portal.customer",
            ),
        ),
        migrations.AlterField(
            model_name="notice",
            name="partner",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="partner_portal.partner",
            ),
        ),
        migrations.RunPython(add_keys, drop_keys),
    ]
