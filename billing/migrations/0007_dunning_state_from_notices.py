"""Fill the dunning state from what collections already did: each invoice's harshest notice and the
day of its final notice, and the customers whose subscriptions collections hold suspended."""

from django.db import migrations

RANK = {"remind": 1, "final_notice": 2, "suspend": 3}


def fill(apps, schema_editor):
    Notice = apps.get_model("billing", "Notice")
    InvoiceDunning = apps.get_model("billing", "InvoiceDunning")
    CustomerDunning = apps.get_model("billing", "CustomerDunning")
    Subscription = apps.get_model("subscriptions", "Subscription")
    states: dict[int, dict] = {}
    rows = Notice.objects.order_by("created_at", "pk").values_list(
        "invoice_id", "partner_id", "customer_id", "action", "created_at"
    )
    for invoice_id, partner_id, customer_id, action, created_at in rows.iterator():
        state = states.setdefault(
            invoice_id, {"partner_id": partner_id, "customer_id": customer_id, "harshest": action, "final": None}
        )
        if RANK[action] > RANK[state["harshest"]]:
            state["harshest"] = action
        if action == "final_notice" and state["final"] is None:
            state["final"] = created_at.date()
    InvoiceDunning.objects.bulk_create(
        [
            InvoiceDunning(
                invoice_id=invoice_id,
                partner_id=s["partner_id"],
                customer_id=s["customer_id"],
                harshest=s["harshest"],
                final_notice_on=s["final"],
            )  # fmt: skip
            for invoice_id, s in states.items()
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    suspended = (
        Subscription.objects.filter(suspension_source="collections", status__in=["suspended", "suspension_pending"])
        .values_list("customer_id", "partner_id")
        .distinct()
    )
    CustomerDunning.objects.bulk_create(
        [CustomerDunning(customer_id=c, partner_id=p, suspended=True) for c, p in suspended],
        batch_size=1000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0006_dunning_state"),
        ("subscriptions", "0008_change_azure_step"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
