import importlib
import importlib.util
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from partner_portal.demo import DEMO_PASSWORD, PARTNERS, seed_core


class Command(BaseCommand):
    help = "Create the demo partners, staff, customers and users. Idempotent."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--url", default=None, help="Where the portal is served, to print (default: the PORTAL_BASE_URL setting)."
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        core = seed_core()
        # Each app adds its demo data on top, in INSTALLED_APPS order (the apps' dependency order);
        # found by name so the core does not import the apps that build on it. An app whose demo lives
        # elsewhere names its module in `demo_module`.
        for config in apps.get_app_configs():
            module = getattr(config, "demo_module", f"{config.name}.demo")
            if config.name != "partner_portal" and importlib.util.find_spec(module) is not None:
                importlib.import_module(module).seed_demo(core)
        url = options.get("url") or settings.PORTAL_BASE_URL.rstrip("/") + "/"
        self.stdout.write(self.style.SUCCESS(f"Demo data is in place. Sign in at {url} with:"))
        for spec in PARTNERS:
            self.stdout.write(f"  {spec.name} ({spec.cloud})")
            for email, role in spec.staff.items():
                self.stdout.write(f"    {email:<32} {role}")
            for c in spec.customers:
                if c.user:
                    self.stdout.write(f"    {c.user:<32} customer user of {c.name}")
        self.stdout.write(f"  Password for every demo login: {DEMO_PASSWORD}")
        self.stdout.write(
            "  Two-factor sign-in is optional here; PORTAL_MFA_REQUIRED=true requires it for admins and finance."
        )
