"""The Microsoft support tiers a CSP partner escalates to, as the partner support guidance lists them."""

from django.db import migrations

PARTNER_CENTER = {
    "global": "Partner Center (partner.microsoft.com) > Help + support > New request",
    "us_government": "Partner Center for Microsoft Cloud for US Government > Support > New request",
    "germany": "Partner Center for Microsoft Cloud Germany > Support > New request",
}
SERVICES_HUB = {
    "global": "Services Hub or your Technical Account Manager; phone as given in your contract",
    "us_government": "Services Hub (US Government) or your Technical Account Manager",
    "germany": "Services Hub or your Technical Account Manager (Microsoft Cloud Germany)",
}
TIERS = [
    {
        "code": "business", "kind": "business", "rank": 0, "name": "Business support",
        "covers": "Billing, invoices, licensing and commercial questions, subscription management in Partner Center.",
        "requires": "Open to every CSP partner.",
        "channels": PARTNER_CENTER,
    },
    {
        "code": "premier", "kind": "technical", "rank": 1, "name": "Premier Support for Partners",
        "covers": "Technical problems in Microsoft 365, Azure and Dynamics 365 of the partner's customers, with severity-based response.",
        "requires": "A paid Premier Support for Partners contract.",
        "channels": SERVICES_HUB,
    },
    {
        "code": "advanced", "kind": "technical", "rank": 2, "name": "Advanced Support for Partners",
        "covers": "Technical problems of the partner's customers in Microsoft cloud services, with a named account manager.",
        "requires": "A paid Advanced Support for Partners contract.",
        "channels": SERVICES_HUB,
    },
    {
        "code": "signature_cloud", "kind": "technical", "rank": 3, "name": "Signature Cloud Support",
        "covers": "Technical problems in Microsoft cloud services sold through CSP.",
        "requires": "A Gold or Silver competency (included with it).",
        "channels": PARTNER_CENTER,
    },
]  # fmt: skip


def seed(apps, schema_editor):
    SupportTier = apps.get_model("escalation", "SupportTier")
    for tier in TIERS:
        SupportTier.objects.update_or_create(code=tier["code"], defaults=tier)


class Migration(migrations.Migration):
    dependencies = [("escalation", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
