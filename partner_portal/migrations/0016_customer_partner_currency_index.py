from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partner_portal", "0015_customer_id_partner_key"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["partner", "currency", "id"], name="customer_partner_currency_idx"),
        ),
    ]
