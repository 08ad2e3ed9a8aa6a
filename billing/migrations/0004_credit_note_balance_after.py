from decimal import Decimal

from django.db import migrations
from django.db.models import Q, Sum

import partner_portal.money


def fill(apps, schema_editor):
    """Existing notes: the invoice's balance after each, from the payments and notes before it."""
    CreditNote = apps.get_model("billing", "CreditNote")
    PaymentAllocation = apps.get_model("billing", "PaymentAllocation")
    for note in CreditNote.objects.select_related("invoice").iterator():
        credited = CreditNote.objects.filter(invoice_id=note.invoice_id).filter(
            Q(created_at__lt=note.created_at) | Q(created_at=note.created_at, pk__lte=note.pk)
        ).aggregate(s=Sum("amount"))["s"] or Decimal("0")
        paid = PaymentAllocation.objects.filter(invoice_id=note.invoice_id, created_at__lte=note.created_at).aggregate(
            s=Sum("amount")
        )["s"] or Decimal("0")
        note.invoice_balance_after = note.invoice.total - paid - credited
        note.save(update_fields=["invoice_balance_after"])


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_reconciliation")]

    operations = [
        migrations.AddField(
            model_name="creditnote",
            name="invoice_balance_after",
            field=partner_portal.money.MoneyField(decimal_places=2, default=0, max_digits=16, verbose_name="invoice balance after"),
            preserve_default=False,
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
