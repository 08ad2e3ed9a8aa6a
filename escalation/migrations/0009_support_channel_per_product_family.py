"""Where to file a case per tier × product family × cloud, and what Microsoft's engineers need for each family.

Dynamics 365, Azure and Microsoft 365 each have their own support rules for CSP partners (Microsoft's partner
support guidance, learn.microsoft.com/partner-center/customer-support, and the pages it links for each online
service). A partner files for its customer on the customer's behalf: through Partner Center for every family,
or, as delegated administrator, from the family's own admin centre (Azure portal Help + support for Azure plan
subscriptions; Microsoft 365 admin center; Power Platform admin center for Dynamics 365 Customer Engagement
apps, Business Central admin center for Business Central — learn.microsoft.com/dynamics365/business-central/
dev-itpro/administration/raise-support-case). Paid tiers file through Services Hub, choosing the family's product.
"""

from django.db import migrations, models

FAMILY = {
    "azure": {
        "where": "product: Azure (the Azure plan subscription)",
        "admin_centre": "Azure portal > Help + support > Create a support request (signed in as the customer's "
        "delegated admin)",
        "guidance": "Give the Azure subscription ID, the affected resource IDs, region and the time the problem "
        "began (UTC). Azure plan charges and usage belong to business support, not a technical case.",
    },
    "microsoft_365": {
        "where": "product: Microsoft 365 (the affected workload: Exchange Online, Teams, SharePoint, ...)",
        "admin_centre": "Microsoft 365 admin center > Support > New service request (as the customer's "
        "delegated admin)",
        "guidance": "Give the customer's tenant ID, the affected workload and users, any service health incident "
        "ID, and message trace or error codes. Licence counts and seat changes belong to business support.",
    },
    "dynamics_365": {
        "where": "product: Dynamics 365 (the app: Sales, Customer Service, Finance, Business Central, ...)",
        "admin_centre": "Power Platform admin center > Help + support, or Business Central admin center > "
        "Support for Business Central (as the customer's delegated admin)",
        "guidance": "Give the environment name and ID (or Business Central environment and tenant ID), the app "
        "and its version, the organization URL and the steps that reproduce the error.",
    },
}
BUSINESS = {
    "global": "Partner Center (partner.microsoft.com) > Help + support > New request",
    "us_government": "Partner Center for Microsoft Cloud for US Government > Support > New request",
}
PAID = {
    "global": "Services Hub or your account manager",
    "us_government": "Services Hub (US Government) or your account manager",
}
INCIDENTS = {
    "global": "Partner Center (partner.microsoft.com) > Help + support > New request (technical, using a benefit "
    "incident)",
    "us_government": "Partner Center for Microsoft Cloud for US Government > Support > New request (technical)",
}
BASE = {"business": BUSINESS, "premier": PAID, "advanced": PAID, "unified": PAID, "solutions_partner": INCIDENTS}


def rows():
    for tier, clouds in BASE.items():
        for family, facts in FAMILY.items():
            for cloud, base in clouds.items():
                if tier == "business":
                    channel = f"{base}; {facts['where']}"
                elif tier == "solutions_partner":
                    channel = f"{base}; {facts['where']}. Or: {facts['admin_centre']}"
                else:
                    channel = f"{base}; {facts['where']}"
                yield tier, family, cloud, channel, facts["guidance"]


def seed(apps, schema_editor):
    SupportTier = apps.get_model("escalation", "SupportTier")
    SupportChannel = apps.get_model("escalation", "SupportChannel")
    tiers = {t.code: t for t in SupportTier.objects.all()}
    for tier, family, cloud, channel, guidance in rows():
        if tier in tiers:
            SupportChannel.objects.update_or_create(
                tier=tiers[tier], product_family=family, cloud=cloud,
                defaults={"channel": channel, "guidance": guidance},
            )  # fmt: skip


def unseed(apps, schema_editor):
    apps.get_model("escalation", "SupportChannel").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("escalation", "0008_entitlement_kind_references_type")]

    operations = [
        migrations.CreateModel(
            name="SupportChannel",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("product_family", models.SlugField(max_length=20, verbose_name="product family")),
                ("cloud", models.SlugField(max_length=20, verbose_name="cloud")),
                ("channel", models.TextField(verbose_name="where to file")),
                ("guidance", models.TextField(blank=True, verbose_name="guidance for the case")),
                ("tier", models.ForeignKey(on_delete=models.deletion.CASCADE, related_name="family_channels", to="escalation.supporttier", verbose_name="tier")),
            ],
            options={
                "ordering": ["tier__rank", "product_family", "cloud"],
                "verbose_name": "support channel",
                "verbose_name_plural": "support channels",
                "constraints": [models.UniqueConstraint(fields=("tier", "product_family", "cloud"), name="support_channel_once")],
            },
        ),
        migrations.RunPython(seed, unseed),
    ]  # fmt: skip
