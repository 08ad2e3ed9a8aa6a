"""The answers of the Partner Center stand-in, each copied in shape from Microsoft's documentation.

Every builder names the page its shape comes from. Values are the stand-in's; keys, nesting and
types are Microsoft's.
"""

from __future__ import annotations

import base64
import json
from typing import Any

# --- Microsoft identity platform (the token authority) ----------------------------------------------


def openid_configuration(base: str, tenant: str) -> dict[str, Any]:
    # "OpenID Connect on the Microsoft identity platform", sample OpenID configuration document
    # https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc
    return {
        "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
        "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/{tenant}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "end_session_endpoint": f"{base}/{tenant}/oauth2/v2.0/logout",
        "device_authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
    }


def token_answer(access_token: str) -> dict[str, Any]:
    # "Microsoft identity platform and the OAuth 2.0 client credentials flow", successful response
    # https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
    return {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": access_token}


def token_error(error: str, description: str) -> dict[str, Any]:
    # Same page, "Error response example"
    return {
        "error": error, "error_description": description, "error_codes": [7000215],
        "timestamp": "2026-01-01 00:00:00Z", "trace_id": "255d1aef-8c98-452f-ac51-23d051240864",
        "correlation_id": "fb3d2015-bc17-4bb9-bb85-30c5cf1aaaa7",
    }  # fmt: skip


# --- Partner Center ------------------------------------------------------------------------------


def etag(subscription_id: str, version: int) -> str:
    # The documented ETags are base64 of {"id": ..., "version": n}
    # ("Get a subscription by ID": "eyJpZCI6ImEzNTZh...InZlcnNpb24iOjJ9")
    raw = json.dumps({"id": subscription_id.lower(), "version": version}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def subscription(
    *, customer_tenant_id: str, subscription_id: str, status: str, version: int, **overrides: Any
) -> dict[str, Any]:
    # "Subscription resources" (Subscription) and "Get a subscription by ID", response example
    # https://learn.microsoft.com/partner-center/developer/subscription-resources
    # https://learn.microsoft.com/partner-center/developer/get-a-subscription-by-id
    # The ETag is in attributes.etag; Microsoft sends no ETag response header.
    # Also the answer to a PATCH of `quantity` ("Change the quantity of licenses in a customer
    # subscription": the request body is the full Subscription with the quantity changed, the answer
    # 200 with the updated Subscription)
    # https://learn.microsoft.com/partner-center/developer/change-the-quantity-of-a-subscription
    resource: dict[str, Any] = {
        "id": subscription_id,
        "offerId": "CFQ7TTC0LH18:0001",
        "offerName": "Microsoft 365 E3",
        "friendlyName": "Microsoft 365 E3",
        "quantity": 10,
        "unitType": "Licenses",
        "creationDate": "2026-01-05T10:12:31.437Z",
        "effectiveStartDate": "2026-01-05T00:00:00Z",
        "commitmentEndDate": "2027-01-04T00:00:00Z",
        "status": status,
        "autoRenewEnabled": True,
        "billingType": "license",
        "billingCycle": "monthly",
        "termDuration": "P1Y",
        "contractType": "subscription",
        "suspensionReasons": [],
        "links": {
            "offer": {"uri": "/offers/CFQ7TTC0LH18:0001?country=US", "method": "GET", "headers": []},
            "self": {
                "uri": f"/customers/{customer_tenant_id}/subscriptions/{subscription_id}",
                "method": "GET",
                "headers": [],
            },
        },
        "orderId": "B23FDEDD-D6BD-415A-8B71-3624C81C9644",
        "attributes": {"etag": etag(subscription_id, version), "objectType": "Subscription"},
    }
    resource.update(overrides)
    return resource


def customer(*, tenant_id: str, domain: str, company_name: str) -> dict[str, Any]:
    # "Get a list of customers", response example (Customer in "Customer resources")
    # https://learn.microsoft.com/partner-center/developer/get-a-list-of-customers
    return {
        "id": tenant_id,
        "companyProfile": {
            "tenantId": tenant_id,
            "domain": domain,
            "companyName": company_name,
            "attributes": {"objectType": "CustomerCompanyProfile"},
        },
        "relationshipToPartner": "reseller",
        "attributes": {"objectType": "Customer"},
    }


def collection(items: list[dict[str, Any]], *, self_uri: str, next_uri: str = "", token: str = "") -> dict[str, Any]:
    # "Get a list of customers" / "Get all of a customer's subscriptions", response examples; the
    # `next` link with its MS-ContinuationToken header as in the paged examples of "Get invoice line
    # items" (https://learn.microsoft.com/partner-center/developer/get-invoicelineitems)
    links: dict[str, Any] = {"self": {"uri": self_uri, "method": "GET", "headers": []}}
    if next_uri:
        links["next"] = {
            "uri": next_uri,
            "method": "GET",
            "headers": [{"key": "MS-ContinuationToken", "value": token}],
        }
    return {"totalCount": len(items), "items": items, "links": links, "attributes": {"objectType": "Collection"}}


def error(code: str, description: str) -> dict[str, Any]:
    # "Partner Center REST error codes", error response schema {code, description, data, source}
    # https://learn.microsoft.com/partner-center/developer/error-codes
    return {"code": code, "description": description, "data": [], "source": "PartnerFD"}


def throttled(seconds: int) -> dict[str, Any]:
    # "API throttling guidance", error code response (HTTP 429 with Retry-After)
    # https://learn.microsoft.com/partner-center/developer/api-throttling-guidance
    return {"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {seconds} seconds."}
