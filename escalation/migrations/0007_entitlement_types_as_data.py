"""The support catalogue as data: entitlement types become rows beside the tiers, both in English and Russian.

Microsoft's partner support guidance (learn.microsoft.com/partner-center/customer-support) names the support
vehicles: commercial (business) support for every CSP partner, technical support through Premier Support for
Partners or Advanced Support for Partners (paid), and Signature Cloud Support, which came with Gold and Silver
competencies until Microsoft ended them on 30 September 2022 (Microsoft Cloud Partner Program, now the AI Cloud
Partner Program with Solutions Partner designations; learn.microsoft.com/partner-center/membership/
support-services-designation names ASfP and PSfP as today's support plans). Unified Support is the enterprise
successor of Premier. Business hours of Partner Center support: learn.microsoft.com/partner-center/support/
support-hours. Tier and type codes were hard-coded choices until now; the codes stay, the rows are new.
"""

import datetime as dt

from django.db import migrations, models

TIERS_RU = {
    "business": {
        "name_ru": "Коммерческая поддержка",
        "covers_ru": "Счета, лицензирование и коммерческие вопросы, управление подписками в Partner Center.",
        "requires_ru": "Доступна каждому партнеру CSP бесплатно.",
    },
    "premier": {
        "name_ru": "Поддержка Premier для партнеров",
        "covers_ru": "Технические проблемы клиентов партнера в Microsoft 365, Azure и Dynamics 365, со временем "
        "ответа по степени серьезности.",
        "requires_ru": "Платный договор Premier Support for Partners.",
    },
    "advanced": {
        "name_ru": "Расширенная поддержка для партнеров (Advanced Support for Partners)",
        "covers_ru": "Технические проблемы клиентов партнера в облачных службах Microsoft, с персональным "
        "менеджером.",
        "requires_ru": "Платный договор Advanced Support for Partners.",
    },
    "unified": {
        "name_ru": "Поддержка Unified",
        "covers_ru": "Технические проблемы в облачных и локальных продуктах Microsoft, с проактивными услугами "
        "и ответом по степени серьезности (преемник Premier для крупных организаций).",
        "requires_ru": "Платный договор Microsoft Unified Support; не действует, пока договор не записан.",
    },
    "solutions_partner": {
        "name_ru": "Технические инциденты Solutions Partner",
        "covers_ru": "Определенное число инцидентов технической поддержки по облачным службам Microsoft, "
        "входящих в статус Solutions Partner или пакет преимуществ партнера (AI Cloud Partner Program).",
        "requires_ru": "Статус Solutions Partner или пакет преимуществ; каждая техническая эскалация расходует "
        "один инцидент.",
    },
    "signature_cloud": {
        "name_ru": "Поддержка Signature Cloud",
        "covers_ru": "Технические проблемы в облачных службах Microsoft, проданных через CSP.",
        "requires_ru": "Компетенция Gold или Silver (входила в нее). Выведена: Microsoft прекратила компетенции "
        "Gold и Silver, а с ними и Signature Cloud Support, 30 сентября 2022 года.",
    },
}
TYPES = [
    {
        "code": "premier", "tier": "premier", "rank": 1, "name": "Premier Support for Partners contract",
        "name_ru": "Договор Premier Support for Partners",
        "covers": "Open-ended technical support for the contract's term.",
        "covers_ru": "Техническая поддержка без ограничения числа обращений на срок договора.",
        "requires": "A paid Premier Support for Partners contract with Microsoft.",
        "requires_ru": "Платный договор Premier Support for Partners с Microsoft.",
    },
    {
        "code": "advanced", "tier": "advanced", "rank": 2, "name": "Advanced Support for Partners contract",
        "name_ru": "Договор Advanced Support for Partners",
        "covers": "Open-ended technical support for the contract's term.",
        "covers_ru": "Техническая поддержка без ограничения числа обращений на срок договора.",
        "requires": "A paid Advanced Support for Partners contract with Microsoft.",
        "requires_ru": "Платный договор Advanced Support for Partners с Microsoft.",
    },
    {
        "code": "unified", "tier": "unified", "rank": 3, "name": "Unified Support contract",
        "name_ru": "Договор Unified Support",
        "covers": "Enterprise technical support for the contract's term; inactive until a contract is recorded.",
        "covers_ru": "Техническая поддержка для крупных организаций на срок договора; не действует, пока "
        "договор не записан.",
        "requires": "A paid Microsoft Unified Support contract.",
        "requires_ru": "Платный договор Microsoft Unified Support.",
    },
    {
        "code": "solutions_partner_incidents", "tier": "solutions_partner", "rank": 4,
        "name": "Solutions Partner benefit incidents", "name_ru": "Инциденты из преимуществ Solutions Partner",
        "covers": "A number of technical support incidents; each technical escalation uses one.",
        "covers_ru": "Определенное число инцидентов технической поддержки; каждая техническая эскалация "
        "расходует один.",
        "requires": "A Solutions Partner designation or partner benefits package that includes them.",
        "requires_ru": "Статус Solutions Partner или пакет преимуществ партнера, в который они входят.",
        "counts_incidents": True,
    },
    {
        "code": "gold", "tier": "signature_cloud", "rank": 90, "name": "Gold competency",
        "name_ru": "Компетенция Gold",
        "covers": "Signature Cloud Support, included with the competency.",
        "covers_ru": "Поддержка Signature Cloud, входившая в компетенцию.",
        "requires": "A Gold competency. Microsoft ended Gold competencies on 30 September 2022.",
        "requires_ru": "Компетенция Gold. Microsoft прекратила компетенции Gold 30 сентября 2022 года.",
        "valid_until": dt.date(2022, 9, 30), "retired": True,
    },
    {
        "code": "silver", "tier": "signature_cloud", "rank": 91, "name": "Silver competency",
        "name_ru": "Компетенция Silver",
        "covers": "Signature Cloud Support, included with the competency.",
        "covers_ru": "Поддержка Signature Cloud, входившая в компетенцию.",
        "requires": "A Silver competency. Microsoft ended Silver competencies on 30 September 2022.",
        "requires_ru": "Компетенция Silver. Microsoft прекратила компетенции Silver 30 сентября 2022 года.",
        "valid_until": dt.date(2022, 9, 30), "retired": True,
    },
]  # fmt: skip


def seed(apps, schema_editor):
    SupportTier = apps.get_model("escalation", "SupportTier")
    EntitlementType = apps.get_model("escalation", "EntitlementType")
    Entitlement = apps.get_model("escalation", "Entitlement")
    for code, values in TIERS_RU.items():
        SupportTier.objects.filter(code=code).update(**values)
    tiers = {t.code: t for t in SupportTier.objects.all()}
    for row in TYPES:
        values = {**row, "tier": tiers[row["tier"]]}
        EntitlementType.objects.update_or_create(code=values.pop("code"), defaults=values)
    # Any other code already stored on an entitlement stays readable: a retired type of Signature Cloud Support.
    known = {row["code"] for row in TYPES}
    for code in set(Entitlement.objects.values_list("kind", flat=True)) - known:
        EntitlementType.objects.create(
            code=code, tier=tiers["signature_cloud"], name=code, requires="Retired.", retired=True, rank=99
        )


def unseed(apps, schema_editor):
    apps.get_model("escalation", "EntitlementType").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("escalation", "0006_solutions_partner_incidents")]

    operations = [
        migrations.AlterModelOptions(
            name="supporttier",
            options={"ordering": ["rank", "code"], "verbose_name": "support tier", "verbose_name_plural": "support tiers"},
        ),
        migrations.AlterField(model_name="supporttier", name="code", field=models.SlugField(max_length=20, unique=True)),
        migrations.AddField(
            model_name="supporttier", name="name_ru",
            field=models.CharField(blank=True, max_length=100, verbose_name="name (Russian)"),
        ),
        migrations.AddField(
            model_name="supporttier", name="covers_ru",
            field=models.TextField(blank=True, verbose_name="what it covers (Russian)"),
        ),
        migrations.AddField(
            model_name="supporttier", name="requires_ru",
            field=models.TextField(blank=True, verbose_name="what it requires (Russian)"),
        ),
        migrations.CreateModel(
            name="EntitlementType",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.SlugField(max_length=40, unique=True, verbose_name="code")),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                ("name_ru", models.CharField(blank=True, max_length=100, verbose_name="name (Russian)")),
                ("covers", models.TextField(blank=True, verbose_name="what it covers")),
                ("covers_ru", models.TextField(blank=True, verbose_name="what it covers (Russian)")),
                ("requires", models.TextField(blank=True, verbose_name="what it requires")),
                ("requires_ru", models.TextField(blank=True, verbose_name="what it requires (Russian)")),
                ("counts_incidents", models.BooleanField(default=False, verbose_name="counts incidents")),
                ("default_incidents", models.PositiveIntegerField(blank=True, null=True, verbose_name="default incident allowance", help_text="Incidents a new entitlement of this type starts with when none are given.")),
                ("valid_from", models.DateField(blank=True, null=True, verbose_name="valid from")),
                ("valid_until", models.DateField(blank=True, null=True, verbose_name="valid until")),
                ("retired", models.BooleanField(default=False, verbose_name="retired")),
                ("rank", models.PositiveSmallIntegerField(default=0, verbose_name="order")),
                ("tier", models.ForeignKey(on_delete=models.deletion.PROTECT, related_name="entitlement_types", to="escalation.supporttier", verbose_name="tier")),
            ],
            options={"ordering": ["rank", "code"], "verbose_name": "entitlement type", "verbose_name_plural": "entitlement types"},
        ),
        migrations.RunPython(seed, unseed),
    ]  # fmt: skip
