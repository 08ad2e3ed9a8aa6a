"""A partner's canned replies: a title and a text in English and in Russian, with how often it is used."""

from __future__ import annotations

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from partner_portal import clock
from partner_portal.models import Partner, User
from partner_portal.tenancy import TenantQuerySet


class CannedReplyQuerySet(TenantQuerySet["CannedReply"]):
    customer_lookup = None  # the partner's staff write with them; customers see only the replies sent


class CannedReply(models.Model):
    """A ready answer. The texts are plain text with `{variable}` placeholders (tickets.canned.services);
    the one inserted follows the ticket's customer's language, else the other. `use_count` and
    `last_used_at` move each time a reply or note that started from it is sent."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=100)
    body_en = models.TextField(_("text in English"), blank=True)
    body_ru = models.TextField(_("text in Russian"), blank=True)
    use_count = models.PositiveIntegerField(_("times used"), default=0)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now)
    updated_at = models.DateTimeField(_("updated"), default=clock.now)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = CannedReplyQuerySet.as_manager()

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["-use_count", "title", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "title"], name="canned_reply_title_unique"),
            models.CheckConstraint(condition=~models.Q(body_en="", body_ru=""), name="canned_reply_has_a_text"),
        ]
        indexes = [
            # The list's sorts (and the picker's "most used first"), each ending with the keyset's id.
            models.Index(fields=["partner", "use_count", "id"], name="canned_partner_used_idx"),
            models.Index(fields=["partner", "title", "id"], name="canned_partner_title_idx"),
            models.Index(fields=["partner", "updated_at", "id"], name="canned_partner_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def body_for(self, language: str) -> tuple[str, str]:
        """(text, its language) for a reader of `language`: that language's text, else the other one."""
        own, other = ("ru", "en") if language == "ru" else ("en", "ru")
        for code in (own, other):
            text = getattr(self, f"body_{code}")
            if text:
                return text, code
        return "", own

    @property
    def preview(self) -> str:
        """The text in the page's language (else the other), for lists."""
        return self.body_for(translation.get_language() or "en")[0]
