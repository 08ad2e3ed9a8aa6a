"""API v1 of the core: the token endpoint, the partner's details and customers. Thin: validate, call, serialize."""

from __future__ import annotations

from typing import Any, NoReturn

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import authenticate
from django.db import models
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from partner_portal import mfa, selectors, services, signin_audit
from partner_portal.access import ALL_ROLES, CUSTOMER_WRITERS, STAFF_MANAGERS, ScopedAPIMixin
from partner_portal.apikit import StrictUUIDField, query_params
from partner_portal.models import CURRENCY_CHOICES, STAFF_ROLES, ApiToken, Customer, Language, Partner
from partner_portal.throttles import TokenAccountThrottle, TokenAddressThrottle


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False)
    code = serializers.CharField(required=False, allow_blank=True, help_text="TOTP code, for users with MFA")
    name = serializers.CharField(
        required=False,
        max_length=100,
        default="API",
        help_text="what the token is for (one token per integration), shown in the owner's token list",
    )


class TokenIssuedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    token = serializers.CharField(help_text="the secret: shown only in this answer")
    expiry = serializers.DateTimeField()


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as its owner sees it in the list: never the secret, nor any part of it."""

    expired = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "created", "expiry", "expired"]
        read_only_fields = fields

    def get_expired(self, token: ApiToken) -> bool:
        return token.is_expired()


class AuthTokenView(APIView):
    """Exchange email and password (and a TOTP code when MFA is on) for a new API token, named after the
    integration that will use it. It ends API_TOKEN_TTL_DAYS later, or when revoked, or when the password
    changes."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    # Failures are counted per account and per address apart (partner_portal.throttles).
    throttle_classes = [TokenAccountThrottle, TokenAddressThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenIssuedSerializer,
            401: OpenApiResponse(description="Wrong credentials, or a TOTP code missing or not valid"),
            403: OpenApiResponse(description="The role requires TOTP and the user has not enrolled it"),
            429: OpenApiResponse(description="Too many failed attempts"),
        },
    )
    def post(self, request: Request) -> Response:
        form = TokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        email = form.validated_data["email"].lower()
        user = authenticate(request._request, email=email, password=form.validated_data["password"])
        if user is None or not user.is_active or not hasattr(user, "membership"):
            self._fail()
            raise AuthenticationFailed("Unable to sign in with these credentials.")
        if mfa.enrolment_missing(user, user.membership.role):
            # The password is right, but this role needs a second factor the user has not set up.
            raise PermissionDenied("Your role requires two-factor authentication: enrol TOTP in the portal first.")
        totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        if totp is not None:
            code = form.validated_data.get("code", "")
            if not code:
                raise AuthenticationFailed({"code": ["This account uses two-factor authentication: send code."]})
            if not TOTP(totp).validate_code(code):
                signin_audit.record_code_failed(request._request, user)
                self._fail()
                raise AuthenticationFailed({"code": ["The code is not valid."]})
        token, secret = services.api_token_issue(user=user, name=form.validated_data["name"])
        return Response(
            TokenIssuedSerializer({"id": token.pk, "name": token.name, "token": secret, "expiry": token.expiry}).data
        )

    def throttled(self, request: Request, wait: float) -> NoReturn:
        data = request.data
        signin_audit.record_lockout(request._request, str(data.get("email", "")) if hasattr(data, "get") else "")
        super().throttled(request, wait)

    def get_authenticate_header(self, request: Request) -> str:
        return "Token"  # answer wrong credentials with 401, as DRF does for authenticated endpoints

    def get_throttles(self) -> list[Any]:
        # The same instances that let the request in record its failure.
        if not hasattr(self, "_failure_throttles"):
            self._failure_throttles = [throttle() for throttle in self.throttle_classes]
        return self._failure_throttles

    def _fail(self) -> None:
        for throttle in self.get_throttles():
            throttle.failure()


class ApiTokenViewSet(ScopedAPIMixin, mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The caller's own API tokens: listed without their secret, and revoked one by one (DELETE). A
    partner admin revokes a member's token on the team page."""

    queryset = ApiToken.objects.none()  # the schema's model; requests read get_queryset()
    serializer_class = ApiTokenSerializer
    write_roles = ALL_ROLES  # everyone may revoke their own tokens
    http_method_names = ["get", "delete", "head", "options"]

    def get_queryset(self) -> Any:
        return selectors.api_tokens_own(scope=self.scope)

    def perform_destroy(self, instance: ApiToken) -> None:
        services.api_token_revoke(token=instance, actor=self.scope.user)


class PartnerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Partner
        fields = ["id", "slug", *services.PARTNER_EDITABLE_FIELDS]
        read_only_fields = ["id", "slug"]


class PartnerAPIView(ScopedAPIMixin, APIView):
    """The caller's partner as its documents and e-invoices state it: address, VAT and legal
    registration identifiers, IBAN and BIC, Peppol participant identifier. Staff read it; partner admins
    PATCH it."""

    read_roles = STAFF_ROLES
    write_roles = STAFF_MANAGERS

    @extend_schema(responses={200: PartnerSerializer})
    def get(self, request: Request) -> Response:
        return Response(PartnerSerializer(selectors.partner_get(scope=self.scope)).data)

    @extend_schema(request=PartnerSerializer, responses={200: PartnerSerializer})
    def patch(self, request: Request) -> Response:
        form = PartnerSerializer(selectors.partner_get(scope=self.scope), data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        partner = services.partner_update(
            partner=self.scope.partner, actor=self.scope.user, changes=dict(form.validated_data)
        )
        return Response(PartnerSerializer(partner).data)


# What the partner keeps about a customer for itself: its staff's notes and its collections
# exceptions. A customer user reading its own record gets the rest.
STAFF_ONLY_CUSTOMER_FIELDS = ("notes", "collections_exempt", "collections_extra_grace_days")


class CustomerSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.UUIDField: StrictUUIDField,
    }

    class Meta:
        model = Customer
        fields = ["id", *services.CUSTOMER_EDITABLE_FIELDS, "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {
            name: {"help_text": "Staff only: left out for customer users."} for name in STAFF_ONLY_CUSTOMER_FIELDS
        }

    def to_representation(self, instance: Customer) -> dict[str, Any]:
        data = super().to_representation(instance)
        view = self.context.get("view")
        if view is not None and not view.scope.is_staff:
            for name in STAFF_ONLY_CUSTOMER_FIELDS:
                data.pop(name, None)
        return data


class CustomerQuery(serializers.Serializer):
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="name, domain, billing email or tenant ID"
    )
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES, required=False)
    collections = serializers.ChoiceField(choices=["exempt", "promise"], required=False)


@extend_schema_view(list=extend_schema(parameters=[CustomerQuery]))
class CustomerViewSet(
    ScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Customers of the caller's partner; a customer user sees only its own. Partner admins and
    finance create and edit them."""

    queryset = Customer.objects.none()  # the schema's model; requests read get_queryset()
    serializer_class = CustomerSerializer
    write_roles = CUSTOMER_WRITERS
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        if self.action != "list":
            return selectors.customer_list(scope=self.scope)
        return selectors.customer_list(
            scope=self.scope, filters=selectors.CustomerFilters(**query_params(CustomerQuery, self.request))
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = CustomerSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        customer = services.customer_create(
            partner=self.scope.partner, actor=self.scope.user, data=dict(form.validated_data)
        )
        return Response(CustomerSerializer(customer).data, status=201)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        form = CustomerSerializer(customer, data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        customer = services.customer_update(customer=customer, actor=self.scope.user, changes=dict(form.validated_data))
        return Response(CustomerSerializer(customer).data)
