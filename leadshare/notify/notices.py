"""Admin notices: what a group's admins are told, in the app and as a WeCom app message.

A notice is written in the unit of work of its cause (a credit that takes a budget below its
alert amount, a credit skipped for lack of budget), or by the sweep (a user who opened more
contacts of leads their store does not hold than the group allows in a day: once per user and
local day, a unique key deciding between sweepers). Each notice is shown to every group admin
until that admin marks it read; through the outbox (retried like any message) it goes to the
admins as a WeCom app message when the group has a WeCom app, and to the group's admin robot
(`admin_robot_url`) when it has one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, insert, select
from sqlalchemy.exc import IntegrityError

from ..auth.models import User
from ..auth.scope import require_role
from ..clock import local_date, utcnow
from ..extensions import db
from ..pagination import paginate
from ..privacy.access_log import views_over_threshold
from ..tenancy.models import Group
from ..uow import transactional, unit_of_work
from ..vocabulary import Role
from .enums import NotificationEvent
from .models import AdminNotice, AdminNoticeRead
from .outbox import admin_notifications


def tell_admins(
    group: Group,
    kind: NotificationEvent,
    data: dict[str, Any],
    at: datetime,
    key: str | None = None,
) -> AdminNotice | None:
    """Add a notice for the group's admins (and its WeCom app message) to the caller's unit of
    work. With a `key`, a notice another already made under that key is not made again (None)."""
    notice = AdminNotice(group_id=group.id, kind=kind, key=key, data=data, created_at=at)
    if key is None:
        db.session.add(notice)
    else:
        try:
            with db.session.begin_nested():
                db.session.add(notice)
        except IntegrityError:  # made already, by an earlier sweep or another sweeper
            return None
    db.session.add_all(admin_notifications(group, kind, data, at))
    return notice


def alert_contact_views(now: datetime | None = None) -> int:
    """The sweep's part: a notice per user over the group's daily contact views, once per
    local day (today and yesterday are looked at, so a crossing just before midnight is not
    missed). One unit of work per group; returns how many notices were made."""
    now = now or utcnow()
    made = 0
    for group_id in db.session.scalars(select(Group.id).order_by(Group.id)).all():
        with unit_of_work():
            group = db.session.get(Group, group_id)
            today = local_date(now, group.timezone)
            for day in (today - timedelta(days=1), today):
                rows = views_over_threshold(group, day)
                names = _names(user_id for user_id, _views in rows)
                for user_id, views in rows:
                    data = {
                        "user_id": user_id,
                        "user": names.get(user_id),
                        "day": day.isoformat(),
                        "views": views,
                        "threshold": group.contact_views_alert_per_day,
                    }
                    key = f"contact_views:{user_id}:{day.isoformat()}"
                    if tell_admins(group, NotificationEvent.CONTACT_VIEWS, data, now, key):
                        made += 1
    return made


def _names(user_ids: Iterable[int]) -> dict[int, str]:
    ids = list(user_ids)
    if not ids:
        return {}
    users = db.session.execute(select(User.id, User.name, User.email).where(User.id.in_(ids)))
    return {row.id: row.name or row.email for row in users}


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    notice: AdminNotice
    is_read: bool


def _read_by(user: User):
    return exists().where(
        AdminNoticeRead.notice_id == AdminNotice.id, AdminNoticeRead.user_id == user.id
    )


def unread_count(user: User) -> int | None:
    """The navigation's count: a group admin's unread notices (None for other roles)."""
    if user.role != Role.GROUP_ADMIN:
        return None
    query = select(func.count(AdminNotice.id)).where(
        AdminNotice.group_id == user.group_id, ~_read_by(user)
    )
    return int(db.session.scalar(query) or 0)


def list_notices(user: User, page: int, per_page: int, *, unread_only: bool = False):
    """The group admin's notices, newest first, each with whether this admin has read it."""
    require_role(user, Role.GROUP_ADMIN)
    query = select(AdminNotice).where(AdminNotice.group_id == user.group_id)
    if unread_only:
        query = query.where(~_read_by(user))
    result = paginate(query.order_by(AdminNotice.id.desc()), page, per_page)
    ids = [notice.id for notice in result.items]
    read = set(
        db.session.scalars(
            select(AdminNoticeRead.notice_id).where(
                AdminNoticeRead.user_id == user.id, AdminNoticeRead.notice_id.in_(ids)
            )
        )
    )
    result.items = [Shown(notice, notice.id in read) for notice in result.items]
    return result


@transactional
def mark_read(user: User, notice_ids: Iterable[int] | None = None) -> int:
    """Mark the admin's unread notices read: the given ones, or all; returns how many. Notices
    of another group are not touched (no error: the answer is the count)."""
    require_role(user, Role.GROUP_ADMIN)
    query = select(AdminNotice.id).where(AdminNotice.group_id == user.group_id, ~_read_by(user))
    if notice_ids is not None:
        query = query.where(AdminNotice.id.in_(list(notice_ids)))
    ids = list(db.session.scalars(query))
    if ids:
        now = utcnow()
        try:
            with db.session.begin_nested():
                db.session.execute(
                    insert(AdminNoticeRead),
                    [{"notice_id": i, "user_id": user.id, "read_at": now} for i in ids],
                )
        except IntegrityError:  # the same admin's other request marked them first
            return 0
    return len(ids)
