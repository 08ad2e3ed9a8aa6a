"""Where each Partner Center cloud signs in and answers (Partner.Cloud values).

- API hosts: "Different Partner Center REST URL end points for use in certain countries or regions",
  https://learn.microsoft.com/partner-center/developer/partner-center-rest-urls — one host for Partner
  Center and Partner Center for Microsoft Cloud for US Government, another for 21Vianet.
- Sign-in authorities and the 21Vianet resource: Microsoft's Partner Center PowerShell module
  (microsoft/Partner-Center-PowerShell, EnvironmentConstants.cs): login.microsoftonline.com,
  login.microsoftonline.us, login.chinacloudapi.cn.
- Microsoft Cloud Germany closed on 29 October 2021: its partners stay readable in the portal, but
  nothing is ever sent to its authority (login.microsoftonline.de).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from subscriptions.errors import PartnerCenterCloudClosed, PartnerCenterPermanentError

GERMANY = "germany"


@dataclass(frozen=True)
class CloudEndpoints:
    authority_host: str  # https://host, the tenant is appended
    api_url: str
    resource: str  # the token's audience; the scope asked for is "{resource}/.default"

    @property
    def scope(self) -> str:
        return f"{self.resource}/.default"


CLOUDS: dict[str, CloudEndpoints] = {
    "global": CloudEndpoints(
        "https://login.microsoftonline.com",
        "https://api.partnercenter.microsoft.com",
        "https://api.partnercenter.microsoft.com",
    ),
    "us_government": CloudEndpoints(
        "https://login.microsoftonline.us",
        "https://api.partnercenter.microsoft.com",
        "https://api.partnercenter.microsoft.com",
    ),
    "china": CloudEndpoints(
        "https://login.chinacloudapi.cn",
        "https://partner.partnercenterapi.microsoftonline.cn",
        "https://partner.partnercenterapi.microsoftonline.cn",
    ),
}


def germany_closed_message() -> str:
    return _(
        "Microsoft Cloud Germany closed on 29 October 2021: Partner Center no longer answers for it, so "
        "nothing is sent to Microsoft for this partner. Move the partner to the global cloud."
    )


def cloud_endpoints(cloud: str) -> CloudEndpoints:
    """The endpoints of `cloud`; Germany is a PartnerCenterCloudClosed, an unknown cloud permanent too."""
    if cloud == GERMANY:
        message = germany_closed_message()
        raise PartnerCenterCloudClosed(message, code="cloud_closed", description=message, staff_message=message)
    try:
        return CLOUDS[cloud]
    except KeyError as exc:
        raise PartnerCenterPermanentError(f"unknown Partner Center cloud {cloud!r}") from exc


def authority_url(cloud: str, override: str = "") -> str:
    """The sign-in authority host of `cloud`; `override` (a test double) replaces the host."""
    endpoints = cloud_endpoints(cloud)  # refuses Germany even with an override
    return override.rstrip("/") if override else endpoints.authority_host
