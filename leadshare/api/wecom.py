"""A group's WeCom app (corp id, agent id, secret) for WeCom sign-in and app messages."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..settings import current_settings
from ..wecom import service
from ..wecom.schemas import WecomAppSchema, WecomAppWriteSchema
from .openapi import refusals

blp = Blueprint("wecom", __name__, url_prefix="/api/v1", description="WeCom (企业微信)")

NOT_SET = {404: "No such group, or it has no WeCom app yet; reasons: not_found, not_set."}


def _answer(app) -> dict:
    settings = current_settings()
    return {
        "group_id": app.group_id,
        "corp_id": app.corp_id,
        "agent_id": app.agent_id,
        "secret_source": service.secret_source(app, settings.wecom),
        "updated_at": app.updated_at,
    }


@blp.route("/groups/<int:group_id>/wecom")
class GroupWecomApp(MethodView):
    @blp.response(200, WecomAppSchema)
    @refusals(blp, NOT_SET)
    def get(self, group_id):
        """The group's WeCom app; the secret is never answered, only where it comes from."""
        return _answer(service.get_app(current_actor(), group_id))

    @blp.arguments(WecomAppWriteSchema)
    @blp.response(200, WecomAppSchema)
    @refusals(
        blp,
        {
            422: "Invalid fields, or a secret but no WECOM_ENCRYPTION_KEY; reasons: "
            "validation_error, encryption_key_missing, encryption_key_invalid."
        },
    )
    def put(self, data, group_id):
        """Set the group's WeCom app (group admin, platform admin); the secret is encrypted."""
        return _answer(service.set_app(current_actor(), group_id, data, current_settings()))

    @blp.response(204)
    @refusals(blp, NOT_SET)
    def delete(self, group_id):
        """Stop WeCom sign-in for the group; users keep their WeCom links."""
        service.remove_app(current_actor(), group_id)
