"""Partner Center clouds as Microsoft lists them: 21Vianet added, Microsoft Cloud Germany closed."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.forms import modelform_factory
from django.urls import reverse
from django.utils import translation

from partner_portal.models import Partner
from tests.conftest import Tenant

CLOSED = (
    "Microsoft Cloud Germany closed on 29 October 2021. Choose the global cloud (Microsoft's German "
    "datacenter regions are part of it), US Government or 21Vianet."
)


def test_the_clouds_offered_are_microsofts_list_today() -> None:
    assert Partner.Cloud.values == ["global", "us_government", "germany", "china"]
    with translation.override("en"):
        assert str(Partner.Cloud.CHINA.label) == "Partner Center operated by 21Vianet"
    with translation.override("ru"):
        assert str(Partner.Cloud.CHINA.label) == "Partner Center под управлением 21Vianet"


def test_a_partner_cannot_be_set_to_germany(tenant: Tenant) -> None:
    tenant.partner.cloud = Partner.Cloud.GERMANY
    with pytest.raises(ValidationError) as refused:
        tenant.partner.full_clean()
    assert refused.value.message_dict == {"cloud": [CLOSED]}
    tenant.partner.cloud = Partner.Cloud.CHINA
    tenant.partner.full_clean()


def test_an_existing_germany_partner_reads_but_its_edit_form_asks_for_another_cloud(tenant: Tenant) -> None:
    Partner.objects.filter(pk=tenant.partner.pk).update(cloud="germany")  # a row from before the closure
    partner = Partner.objects.get(pk=tenant.partner.pk)
    assert partner.get_cloud_display() == "Microsoft Cloud Germany (closed)"
    form_class = modelform_factory(Partner, form=site._registry[Partner].form, fields=["name", "slug", "cloud",
                                   "default_currency", "time_zone", "locale"])  # fmt: skip
    data = {"name": partner.name, "slug": partner.slug, "cloud": "germany", "default_currency": "USD",
            "time_zone": "UTC", "locale": "en"}  # fmt: skip
    form = form_class(data=data, instance=partner)
    assert form.errors == {"cloud": [CLOSED]}
    assert form_class(data={**data, "cloud": "global"}, instance=partner).is_valid()
    with translation.override("ru"):
        assert (
            form_class(data=data, instance=partner)
            .errors["cloud"][0]
            .startswith("Microsoft Cloud Германия закрыто 29 октября 2021 года.")
        )


def test_staff_of_a_germany_partner_see_the_banner_and_customers_do_not(tenant: Tenant, client_for) -> None:
    banner = "Microsoft Cloud Germany closed on 29 October 2021."
    assert banner not in client_for(tenant.finance).get(reverse("staff_dashboard")).content.decode()
    Partner.objects.filter(pk=tenant.partner.pk).update(cloud="germany")
    page = client_for(tenant.finance).get(reverse("staff_dashboard")).content.decode()
    assert banner in page
    assert "suspensions and reactivations are not sent to Microsoft" in page
    assert banner not in client_for(tenant.customer_admin).get(reverse("customer_home")).content.decode()
