"""The demo data (README, "Demo logins"). Idempotent: every row is found by a stable key before it is created.

Later apps add their demo data by seeding on top of what `seed_core` returns.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.db import transaction

from partner_portal.models import Customer, EinvoiceFormat, Membership, Partner, Role, User
from partner_portal.services import customer_create

DEMO_PASSWORD = "portal-demo-2026"  # noqa: S105 - the documented demo password
_NAMESPACE = uuid.UUID("6f1c2d9e-3b7a-4c55-9a0e-1d2b3c4d5e6f")


@dataclass(frozen=True)
class DemoCustomer:
    name: str
    domain: str
    language: str = "en"
    currency: str = "USD"
    credit_days: int = 30
    contact: str = ""
    user: str | None = None
    address: str = ""
    country: str = "US"
    einvoice_format: str = EinvoiceFormat.PDF
    einvoicing: dict[str, str] = field(default_factory=dict)  # structured address, VAT and Peppol ids


@dataclass(frozen=True)
class DemoPartner:
    slug: str
    name: str
    mpn_id: str
    cloud: str
    time_zone: str
    address: str
    support_email: str
    support_phone: str
    staff: dict[str, str]
    tax_id: str = ""
    country: str = ""
    street: str = ""
    city: str = ""
    post_code: str = ""
    customers: list[DemoCustomer] = field(default_factory=list)
    currency: str = "USD"
    einvoicing: dict[str, str] = field(default_factory=dict)  # legal id, Peppol id, contact, IBAN, BIC
    iban: str = "GB29 NWBK 6016 1331 9268 19"


# The people behind the demo staff logins, so pages and emails show names as they would in use.
STAFF_NAMES = {
    "admin@contoso.example": "Olivia Bennett",
    "finance@contoso.example": "Marcus Reid",
    "agent@contoso.example": "Priya Shah",
    "admin@fabrikam.example": "Daniel Ortiz",
    "finance@woodgrove.example": "Sofie Claes",
}

PARTNERS = [
    DemoPartner(
        slug="contoso",
        name="Contoso Cloud Partners",
        mpn_id="4412873",
        cloud=Partner.Cloud.GLOBAL,
        time_zone="Europe/London",
        address="1 Cloud Street\nLondon EC2A 4NE\nUnited Kingdom",
        support_email="support@contoso.example",
        support_phone="+44 20 7946 0100",
        tax_id="GB123456789",
        country="GB",
        street="1 Cloud Street",
        city="London",
        post_code="EC2A 4NE",
        staff={
            "admin@contoso.example": Role.PARTNER_ADMIN,
            "finance@contoso.example": Role.FINANCE,
            "agent@contoso.example": Role.SUPPORT_AGENT,
        },
        customers=[
            DemoCustomer(
                "Northwind Traders",
                "northwind.example",
                contact="Nancy Davolio",
                user="billing@northwind.example",
                address="2 Harbour Road\nSeattle, WA 98101",
            ),
            DemoCustomer(
                "A. Datum Corporation",
                "adatum.example",
                contact="Andrew Fuller",
                user="billing@adatum.example",
                address="400 Market Street\nSan Francisco, CA 94105",
                credit_days=14,
            ),
            DemoCustomer(
                "Fourth Coffee",
                "fourthcoffee.example",
                contact="Janet Leverling",
                currency="EUR",
                address="Keizersgracht 12\n1015 CS Amsterdam",
                country="NL",
                einvoice_format=EinvoiceFormat.UBL,  # its invoice email carries the UBL XML too
                einvoicing={
                    "street": "Keizersgracht 12",
                    "city": "Amsterdam",
                    "post_code": "1015 CS",
                    "buyer_reference": "FC-IT-01",
                },
            ),
            DemoCustomer(
                "Litware, Inc.",
                "litware.example",
                contact="Margaret Peacock",
                credit_days=45,
                address="77 Industrial Way\nAustin, TX 78701",
            ),
            DemoCustomer(
                "Wide World Importers",
                "wideworldimporters.example",
                contact="Steven Buchanan",
                address="10 Dock Lane\nBoston, MA 02110",
            ),
            DemoCustomer(
                "Proseware, Inc.",
                "proseware.example",
                contact="Michael Suyama",
                credit_days=15,
                address="5 Commerce Plaza\nDenver, CO 80202",
            ),
            DemoCustomer(
                "ООО «Лукерн Паблишинг»",
                "lucerne.example",
                language="ru",
                currency="RUB",
                contact="Ирина Смирнова",
                address="ул. Тверская, 7\n125009 Москва",
                country="RU",
            ),
            DemoCustomer(
                "Woodgrove Bank",
                "woodgrovebank.example",
                contact="Robert King",
                currency="GBP",
                credit_days=60,
                address="30 Bishopsgate\nLondon EC2N 4AY",
                country="GB",
            ),
        ],
    ),
    DemoPartner(
        slug="fabrikam",
        name="Fabrikam IT Services",
        mpn_id="5520194",
        cloud=Partner.Cloud.US_GOVERNMENT,
        time_zone="America/New_York",
        address="900 Federal Avenue\nArlington, VA 22201\nUnited States",
        support_email="help@fabrikam.example",
        support_phone="+1 703 555 0142",
        tax_id="EIN 54-1234567",
        country="US",
        street="900 Federal Avenue",
        city="Arlington",
        post_code="VA 22201",
        staff={"admin@fabrikam.example": Role.PARTNER_ADMIN},
        customers=[
            DemoCustomer(
                "Tailspin Toys",
                "tailspintoys.example",
                contact="Laura Callahan",
                user="billing@tailspin.example",
                address="12 Runway Drive\nRichmond, VA 23219",
            ),
            DemoCustomer(
                "Wingtip Toys",
                "wingtiptoys.example",
                contact="Anne Dodsworth",
                address="48 Hangar Road\nNorfolk, VA 23510",
            ),
        ],
    ),
    # A Belgian partner billing in euros with everything EN 16931 asks for: its demo invoices and
    # credit note are the e-invoicing cases (domestic, reverse charge, export, mixed rates, a partial
    # credit, tax in euros for a dollar invoice), each valid under the CEN and Peppol rules.
    DemoPartner(
        slug="woodgrove",
        name="Woodgrove Cloud BV",
        mpn_id="6631045",
        cloud=Partner.Cloud.GLOBAL,
        time_zone="Europe/Brussels",
        address="Rue de la Loi 16\n1000 Brussels\nBelgium",
        support_email="support@woodgrove.example",
        support_phone="+32 2 555 01 00",
        tax_id="BE0403170701",
        country="BE",
        street="Rue de la Loi 16",
        city="Brussels",
        post_code="1000",
        currency="EUR",
        iban="BE68 5390 0754 7034",
        einvoicing={
            "legal_registration_id": "0403170701",
            "peppol_scheme": "0208",
            "peppol_id": "0403170701",
            "contact_name": "Sofie Claes",
            "iban": "BE68539007547034",
            "bic": "GKCCBEBB",
        },
        staff={"finance@woodgrove.example": Role.FINANCE},
        customers=[
            DemoCustomer(
                "Brouwerij Janssens NV",
                "janssens.example",
                contact="Pieter Janssens",
                currency="EUR",
                address="Meir 1\n2000 Antwerp",
                country="BE",
                einvoice_format=EinvoiceFormat.PEPPOL,  # its documents' submissions are the Peppol demo
                einvoicing={
                    "street": "Meir 1",
                    "city": "Antwerp",
                    "post_code": "2000",
                    "tax_id": "BE0417497106",
                    "legal_registration_id": "0417497106",
                    "peppol_scheme": "0208",
                    "peppol_id": "0417497106",
                    "buyer_reference": "PO-4711",
                },
            ),
            DemoCustomer(
                "Muster Logistik GmbH",
                "muster.example",
                contact="Jana Muster",
                currency="EUR",
                language="en",
                address="Hauptstrasse 5\n10115 Berlin",
                country="DE",
                einvoice_format=EinvoiceFormat.FACTURX,
                einvoicing={
                    "street": "Hauptstrasse 5",
                    "city": "Berlin",
                    "post_code": "10115",
                    "tax_id": "DE136695976",
                    "legal_registration_id": "HRB 12345",
                    "peppol_scheme": "9930",
                    "peppol_id": "DE136695976",
                    "order_reference": "4500012345",
                },
            ),
            DemoCustomer(
                "Acme Inc.",
                "acme.example",
                contact="Wile Coyote",
                currency="USD",
                address="1 Main Street\nSpringfield, IL 62701",
                country="US",
                einvoicing={
                    "street": "1 Main Street",
                    "city": "Springfield",
                    "post_code": "62701",
                    "peppol_scheme": "0060",
                    "peppol_id": "123456789",
                    "buyer_reference": "ACME-IT-2026",
                },
            ),
            DemoCustomer(
                "Atelier Dupont SRL",
                "dupont.example",
                contact="Claire Dupont",
                currency="USD",
                language="en",
                address="Place du Marché 3\n4000 Liège",
                country="BE",
                einvoicing={
                    "street": "Place du Marché 3",
                    "city": "Liège",
                    "post_code": "4000",
                    "tax_id": "BE0202239951",
                    "legal_registration_id": "0202239951",
                    "peppol_scheme": "0208",
                    "peppol_id": "0202239951",
                    "order_reference": "BC-2026-118",
                },
            ),
        ],
    ),
]


def _user(email: str, *, full_name: str = "", language: str = "en") -> User:
    user, created = User.objects.get_or_create(email=email, defaults={"language": language, "full_name": full_name})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


@dataclass
class DemoCore:
    partners: dict[str, Partner]
    customers: dict[str, Customer]
    users: dict[str, User]


@transaction.atomic
def seed_core() -> DemoCore:
    """Partners, staff, customers and customer users. Running it again changes nothing."""
    result = DemoCore(partners={}, customers={}, users={})
    for spec in PARTNERS:
        partner, _ = Partner.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "microsoft_partner_id": spec.mpn_id,
                "cloud": spec.cloud,
                "default_currency": spec.currency,
                "time_zone": spec.time_zone,
                "address": spec.address,
                "tax_id": spec.tax_id,
                "country": spec.country,
                "street": spec.street,
                "city": spec.city,
                "post_code": spec.post_code,
                "support_email": spec.support_email,
                "support_phone": spec.support_phone,
                "payment_instructions": f"Bank transfer to {spec.name}, IBAN {spec.iban}, quoting the invoice number.",
                **spec.einvoicing,
            },
        )
        result.partners[spec.slug] = partner
        for email, role in spec.staff.items():
            user = _user(email, full_name=STAFF_NAMES.get(email, ""))
            Membership.objects.get_or_create(user=user, defaults={"partner": partner, "role": role})
            result.users[email] = user
        admin = result.users[next(iter(spec.staff))]
        for c in spec.customers:
            tenant_id = uuid.uuid5(_NAMESPACE, f"{spec.slug}:{c.domain}")
            customer = Customer.objects.filter(partner=partner, tenant_id=tenant_id).first()
            if customer is None:
                # Through the service, as staff would: the demo's audit trail shows who added whom.
                customer = customer_create(
                    partner=partner,
                    actor=admin,
                    data={
                        "name": c.name,
                        "tenant_id": tenant_id,
                        "domain": c.domain,
                        "billing_contact": c.contact,
                        "billing_email": f"accounts@{c.domain}",
                        "address": c.address,
                        "country": c.country,
                        "currency": c.currency,
                        "language": c.language,
                        "credit_days": c.credit_days,
                        "einvoice_format": c.einvoice_format,
                        **c.einvoicing,
                    },
                )
            result.customers[c.domain] = customer
            if c.user:
                user = _user(c.user, full_name=c.contact, language=c.language)
                Membership.objects.get_or_create(
                    user=user, defaults={"partner": partner, "customer": customer, "role": Role.CUSTOMER_ADMIN}
                )
                result.users[c.user] = user
    return result
