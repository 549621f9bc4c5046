"""Reward pages: programs, the ledger, statements and payouts (group admin), the store's
statement (manager), voiding a lead (group admin). The rewards services decide; the rewards
schemas check the forms."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField

from ..auth.models import User
from ..clock import utcnow
from ..csv_headers import in_language
from ..csvsafe import csv_text
from ..errors import Conflict, Invalid
from ..leads import access
from ..responses import csv_attachment
from ..rewards import alerts, books, credits
from ..rewards import programs as program_service
from ..rewards.enums import AccountKind, EntryKind, RewardEvent
from ..rewards.models import RewardProgram
from ..rewards.money import format_amount
from ..rewards.payouts import pay_out
from ..rewards.schemas import (
    FundSchema,
    PayoutSchema,
    ProgramPatchSchema,
    ProgramWriteSchema,
    StatementArgsSchema,
    VoidSchema,
)
from ..rewards.statements import statement, statement_table
from ..tenancy.models import Dealer
from ..vocabulary import Role
from . import blp
from .confirm import confirmed, credit_lines, render_confirm
from .forms import compact, load, load_or_flash, store_choices, whole_number
from .i18n import current_language, localtime
from .leads import page_number, refuse
from .lookups import actor, group_dealers, store_label, store_names
from .messages import flatten_errors
from .views import roles_required

RULE_ROWS = 4
EVENTS = tuple(e.value for e in RewardEvent)
PER_PAGE = 20


def money(minor: int | None) -> str:
    """Jinja filter: minor units as a decimal string ("200.00"); blank for None."""
    return "" if minor is None else format_amount(int(minor))


def percent(part: int, whole: int) -> int:
    """Jinja helper: a whole percentage for bars (0 when there is nothing to divide)."""
    return 0 if not whole else max(0, min(100, round(100 * part / whole)))


def current_month() -> str:
    """This month in the reader's time zone, as YYYY-MM."""
    return localtime(utcnow(), "yyyy-MM")


# --- forms --------------------------------------------------------------------------------


class ProgramForm(FlaskForm):
    name = StringField("name")
    starts_on = StringField("starts_on")
    ends_on = StringField("ends_on")
    budget = StringField("budget")
    per_dealer_monthly_cap = StringField("per_dealer_monthly_cap")
    hold_days = StringField("hold_days")
    alert_below = StringField("alert_below")

    def rules(self) -> list[dict[str, str]]:
        """The rule rows as typed (rule-N-event, -amount, -brand, -channel)."""
        rows = []
        for index in range(RULE_ROWS):
            rows.append(
                {
                    name: (request.form.get(f"rule-{index}-{name}") or "").strip()
                    for name in ("event", "amount", "brand", "channel")
                }
            )
        return rows

    def payload(self) -> dict[str, Any]:
        data = compact(
            {
                "name": self.name.data,
                "starts_on": self.starts_on.data,
                "ends_on": self.ends_on.data,
                "budget": self.budget.data,
                "per_dealer_monthly_cap": self.per_dealer_monthly_cap.data,
                "hold_days": whole_number((self.hold_days.data or "").strip()),
                "alert_below": self.alert_below.data,
            }
        )
        data["rules"] = [compact(row) for row in self.rules() if row["event"] or row["amount"]]
        return data


class ProgramEditForm(FlaskForm):
    active = BooleanField("active")
    ends_on = StringField("ends_on")
    hold_days = StringField("hold_days")
    alert_below = StringField("alert_below")

    def payload(self) -> dict[str, Any]:
        data = {
            "active": bool(self.active.data),
            "ends_on": (self.ends_on.data or "").strip() or None,
            "alert_below": (self.alert_below.data or "").strip() or None,
        }
        hold_days = whole_number((self.hold_days.data or "").strip())
        if hold_days is not None:  # an empty box keeps the hold as it is
            data["hold_days"] = hold_days
        return data


class AmountForm(FlaskForm):
    amount = StringField("amount")


class PayoutForm(FlaskForm):
    dealer_id = SelectField("dealer_id", validate_choice=False)
    amount = StringField("amount")
    memo = StringField("memo")

    def payload(self) -> dict[str, Any]:
        return compact(
            {
                "dealer_id": whole_number(self.dealer_id.data),
                "amount": self.amount.data,
                "memo": self.memo.data,
            }
        )


class VoidForm(FlaskForm):
    reason = StringField("reason")


# --- programs -----------------------------------------------------------------------------


def _figures(program: RewardProgram) -> dict[str, Any]:
    figures = program_service.program_figures(program)
    figures["used_percent"] = percent(figures["used"], figures["budget"])
    return figures


def _render_programs(form: ProgramForm, rules: list[dict[str, str]], status: int = 200):
    user = actor()
    page = program_service.list_programs(user, page_number(), PER_PAGE)
    rows = [(program, _figures(program)) for program in page.items]
    return render_template(
        "rewards/programs.html",
        banners=alerts.budget_banners(user),
        rows=rows,
        page=page,
        form=form,
        rules=rules,
        events=EVENTS,
        today=localtime(utcnow(), "yyyy-MM-dd"),
    ), status


@blp.route("/admin/programs", methods=["GET", "POST"])
@roles_required(Role.GROUP_ADMIN)
def programs():
    """The group's reward programs with budget used, and a form to create one."""
    form = ProgramForm()
    if request.method == "GET":
        blank = [dict.fromkeys(("event", "amount", "brand", "channel"), "")] * RULE_ROWS
        return _render_programs(form, blank)
    data = load_or_flash(form, ProgramWriteSchema(), form.payload())
    if data is None:
        return _render_programs(form, form.rules(), 422)
    try:
        program = program_service.create_program(actor(), data)
    except (Invalid, Conflict) as error:
        refuse(error)
        return _render_programs(form, form.rules(), error.status)
    flash(_("Program %(name)s created.", name=program.name), "success")
    return redirect(url_for("web.program", program_id=program.id))


def _render_program(program_id: int, edit: ProgramEditForm | None = None, status: int = 200):
    user = actor()
    program = program_service.get_program(user, program_id)
    skips = program_service.list_skips(user, program.id, page_number(), PER_PAGE)
    names = store_names(group_dealers(program.group_id))
    edit = edit or ProgramEditForm(
        formdata=None,
        data={
            "active": program.is_active,
            "ends_on": program.ends_on.isoformat() if program.ends_on else "",
            "hold_days": str(program.hold_days),
            "alert_below": money(program.alert_below_minor),
        },
    )
    return render_template(
        "rewards/program.html",
        banners=alerts.budget_banners(user, program.id),
        program=program,
        figures=_figures(program),
        skips=skips,
        names=names,
        edit=edit,
        fund=AmountForm(formdata=None),
    ), status


@blp.get("/admin/programs/<int:program_id>")
@roles_required(Role.GROUP_ADMIN)
def program(program_id: int):
    """One program: its rules, budget used, the skipped credits; edit and fund forms."""
    return _render_program(program_id)


@blp.post("/admin/programs/<int:program_id>")
@roles_required(Role.GROUP_ADMIN)
def program_update(program_id: int):
    form = ProgramEditForm()
    data = load_or_flash(form, ProgramPatchSchema(partial=True), form.payload())
    if data is None:
        return _render_program(program_id, form, 422)
    try:
        program_service.update_program(actor(), program_id, data)
    except Invalid as error:
        refuse(error)
        return _render_program(program_id, form, 422)
    flash(_("Program saved."), "success")
    return redirect(url_for("web.program", program_id=program_id))


@blp.post("/admin/programs/<int:program_id>/fund")
@roles_required(Role.GROUP_ADMIN)
def program_fund(program_id: int):
    form = AmountForm()
    data = load(form, FundSchema(), compact({"amount": form.amount.data}))
    if data is None:
        for text in form.amount.errors or form.form_errors:
            flash(_("Amount: %(problem)s", problem=text), "error")
        return redirect(url_for("web.program", program_id=program_id))
    if not confirmed():
        program = program_service.get_program(actor(), program_id)
        amount = format_amount(data["amount"])
        return render_confirm(
            title=_("Add %(amount)s to %(program)s?", amount=amount, program=program.name),
            lines=[
                _(
                    "Move %(amount)s from the group treasury into the budget of %(program)s.",
                    amount=amount,
                    program=program.name,
                )
            ],
            action=url_for("web.program_fund", program_id=program_id),
            fields={"amount": form.amount.data},
            button=_("Confirm: add %(amount)s", amount=amount),
            back=url_for("web.program", program_id=program_id),
        )
    program_service.fund_program(actor(), program_id, data["amount"])
    flash(_("Added %(amount)s to the budget.", amount=format_amount(data["amount"])), "success")
    return redirect(url_for("web.program", program_id=program_id))


# --- ledger and payouts ---------------------------------------------------------------------


def account_names(user: User) -> dict[tuple[str, int], str]:
    """(kind, owner id) -> what the account belongs to, for the ledger page."""
    return {
        key: store_label(owner) if isinstance(owner, Dealer) else owner.name
        for key, owner in books.account_owners(user).items()
    }


@blp.get("/admin/ledger")
@roles_required(Role.GROUP_ADMIN)
def ledger():
    """Every account of the group with its balance, and the latest journal entries."""
    user = actor()
    accounts = books.list_accounts(user, {}, 1, 200)
    entries = books.list_entries(user, {}, page_number(), PER_PAGE)
    return render_template(
        "rewards/ledger.html",
        banners=alerts.budget_banners(user),
        accounts=accounts,
        entries=entries,
        names=account_names(user),
    )


def _render_payouts(form: PayoutForm, status: int = 200):
    user = actor()
    dealers = group_dealers(user.group_id)
    form.dealer_id.choices = store_choices(dealers)
    balances: dict[int, dict[str, int]] = {}
    for kind, name in (
        (AccountKind.DEALER_REWARDS, "available"),
        (AccountKind.DEALER_PENDING, "held"),
    ):
        for account in books.list_accounts(user, {"kind": kind}, 1, 200).items:
            figures = balances.setdefault(account.owner_id, {"available": 0, "held": 0})
            figures[name] = account.balance_minor
    recent = books.list_entries(user, {"kind": EntryKind.PAYOUT}, 1, PER_PAGE)
    return render_template(
        "rewards/payouts.html",
        banners=alerts.budget_banners(user),
        form=form,
        balances=balances,
        recent=recent,
        names=store_names(dealers),
    ), status


@blp.route("/admin/payouts", methods=["GET", "POST"])
@roles_required(Role.GROUP_ADMIN)
def payouts():
    """Pay a store out of its reward balance; never more than it holds."""
    form = PayoutForm()
    if request.method == "GET":
        return _render_payouts(form)
    data = load_or_flash(form, PayoutSchema(), form.payload())
    if data is None:
        return _render_payouts(form, 422)
    store = next((d for d in group_dealers(actor().group_id) if d.id == data["dealer_id"]), None)
    if store is not None and not confirmed():
        amount = format_amount(data["amount"])
        return render_confirm(
            title=_("Pay %(amount)s to %(store)s?", amount=amount, store=store.name),
            lines=[
                _(
                    "Pay %(amount)s out of the reward balance of %(store)s; the ledger records "
                    "it and it cannot be taken back.",
                    amount=amount,
                    store=store.name,
                )
            ],
            action=url_for("web.payouts"),
            fields={
                "dealer_id": form.dealer_id.data,
                "amount": form.amount.data,
                "memo": form.memo.data,
            },
            button=_("Confirm: pay %(amount)s", amount=amount),
            back=url_for("web.payouts"),
        )
    try:
        entry = pay_out(actor(), data["dealer_id"], data["amount"], data.get("memo"))
    except Conflict as error:
        if error.reason == "insufficient_balance":
            flash(
                _(
                    "The store's available balance (%(balance)s) is smaller than this payout;"
                    " %(pending)s is still on hold.",
                    balance=error.extra.get("balance", ""),
                    pending=error.extra.get("pending", ""),
                ),
                "error",
            )
        else:
            refuse(error)
        return _render_payouts(form, 409)
    except Invalid as error:
        refuse(error)
        form.dealer_id.errors = [*form.dealer_id.errors, _("No such store.")]
        return _render_payouts(form, 422)
    flash(
        _(
            "Paid %(amount)s to %(store)s.",
            amount=format_amount(data["amount"]),
            store=entry.dealer.name,
        ),
        "success",
    )
    return redirect(url_for("web.payouts"))


# --- statements -----------------------------------------------------------------------------


def _month_arg() -> tuple[str, bool]:
    """The month asked for (YYYY-MM), or this month and False when it is not one."""
    month = (request.args.get("month") or "").strip()
    if not month:
        return current_month(), True
    try:
        StatementArgsSchema().load({"month": month})
    except Exception:  # noqa: BLE001 - any refusal means "not a month"
        return current_month(), False
    return month, True


def _statement_page(user: User, dealer_id: int | None, dealers: list[Dealer] | None):
    month, good = _month_arg()
    if not good:
        flash(_("Choose a month as YYYY-MM, e.g. 2026-11; showing this month."), "error")
    data = statement(user, dealer_id, month) if dealer_id is not None else None
    if data is not None and request.args.get("format") == "csv":
        table = in_language("statement", statement_table(data), current_language())
        return csv_attachment(csv_text(table), f"statement-{data['dealer']['code']}-{month}.csv")
    return render_template(
        "rewards/statement.html",
        data=data,
        month=month,
        dealers=dealers,
        dealer_id=dealer_id,
        endpoint=request.endpoint,
    )


@blp.get("/admin/statements")
@roles_required(Role.GROUP_ADMIN, Role.MANAGER)
def statements():
    """A store's monthly statement (group admin picks the store); managers see their own."""
    user = actor()
    if user.role == Role.MANAGER:
        return redirect(url_for("web.store_statement", **request.args.to_dict()))
    dealer_id = request.args.get("dealer_id", type=int)
    return _statement_page(user, dealer_id, group_dealers(user.group_id))


@blp.get("/store/statement")
@roles_required(Role.MANAGER)
def store_statement():
    """My store's reward statement for a month, with a CSV download."""
    user = actor()
    return _statement_page(user, user.dealer_id, None)


# --- voiding a lead -------------------------------------------------------------------------


@blp.post("/leads/<lead_id>/void")
@roles_required(Role.GROUP_ADMIN)
def void_lead(lead_id: str):
    """Void a fraudulent lead: every credit it earned is reversed."""
    form = VoidForm()
    try:
        data = VoidSchema().load(compact({"reason": form.reason.data}))
    except Exception as error:  # noqa: BLE001 - marshmallow refusal: say what is missing
        messages = getattr(error, "messages", {})
        texts = [t for ts in flatten_errors(messages).values() for t in ts] or [str(error)]
        flash(_("Why void this lead? %(problem)s", problem=" ".join(texts)), "error")
        return redirect(url_for("web.lead", lead_id=lead_id))
    if not confirmed():
        return _confirm_void(lead_id, data["reason"])
    try:
        credits.void_lead(actor(), lead_id, data["reason"])
    except Conflict as error:
        refuse(error)
    else:
        flash(_("The lead is void: its reward credits were reversed."), "success")
    return redirect(url_for("web.lead", lead_id=lead_id))


def _confirm_void(lead_id: str, reason: str):
    """What voiding will do: the lead left out of every count, each credit reversed."""
    lead = access.get_lead(actor(), lead_id)
    lines = [
        _(
            "Void the lead (%(reason)s): it shows as void everywhere and the funnel and the "
            "flows leave it out.",
            reason=reason,
        ),
        *credit_lines(credits.credits_standing(lead), lead.referrer.name, reversed_=True),
    ]
    return render_confirm(
        title=_("Void this lead?"),
        lines=lines,
        action=url_for("web.void_lead", lead_id=lead_id),
        fields={"reason": reason},
        button=_("Confirm: void the lead"),
        back=url_for("web.lead", lead_id=lead_id),
        danger=True,
    )


# --- what a referral earned -----------------------------------------------------------------


def net_earnings(dealer_id: int | None, lead_ids: list[str]) -> dict[str, str]:
    """Per lead public id, the net amount credited to `dealer_id`, as a decimal string."""
    return {
        public_id: format_amount(total)
        for public_id, total in credits.net_earnings(dealer_id, lead_ids).items()
    }
