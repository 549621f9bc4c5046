"""Webhook notifications: group admins see what was sent and what died, retry, get the secret."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..notify import service
from ..notify.schemas import NotificationQueryArgsSchema, NotificationSchema, WebhookSecretSchema
from ..schemas import page_of
from .common import filtered_page
from .openapi import refusals

blp = Blueprint(
    "notifications", __name__, url_prefix="/api/v1", description="Webhook notifications"
)


@blp.route("/notifications")
class Notifications(MethodView):
    @blp.arguments(NotificationQueryArgsSchema, location="query")
    @blp.response(200, page_of(NotificationSchema))
    def get(self, args):
        """List your group's webhook messages (group admin); `status=dead` needs attention."""
        return filtered_page(service.list_notifications, args)


@blp.route("/notifications/<message_id>")
class NotificationById(MethodView):
    @blp.response(200, NotificationSchema)
    def get(self, message_id):
        """One webhook message (group admin)."""
        return service.get_notification(current_actor(), message_id)


@blp.route("/notifications/<message_id>/retry")
class NotificationRetry(MethodView):
    @blp.response(200, NotificationSchema)
    @refusals(blp, {409: "Only a dead or cancelled message is retried; reasons: not_retryable."})
    def post(self, message_id):
        """Send a dead or cancelled message again, with a fresh set of attempts (group admin)."""
        return service.retry_notification(current_actor(), message_id)


@blp.route("/dealers/<int:dealer_id>/webhook-secret")
class DealerWebhookSecret(MethodView):
    @blp.response(200, WebhookSecretSchema)
    def get(self, dealer_id):
        """The store's key for verifying X-Leadshare-Signature (group admin); 404 until made."""
        return service.get_webhook_secret(current_actor(), dealer_id)

    @blp.response(200, WebhookSecretSchema)
    def post(self, dealer_id):
        """Make or replace the store's signing key; messages sent from now on use the new one."""
        return service.rotate_webhook_secret(current_actor(), dealer_id)
