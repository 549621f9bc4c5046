"""Reward programs, the ledger, payouts, statements and voids (SPEC section 6)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..csv_headers import in_language
from ..csvsafe import csv_text
from ..leads.schemas import LeadSchema
from ..responses import csv_attachment
from ..rewards import alerts, books, credits, programs
from ..rewards.payouts import pay_out
from ..rewards.schemas import (
    AccountQuerySchema,
    AccountSchema,
    AlertQuerySchema,
    AlertSchema,
    EntryQuerySchema,
    EntrySchema,
    FundSchema,
    PayoutSchema,
    ProgramPatchSchema,
    ProgramSchema,
    ProgramWriteSchema,
    SkipSchema,
    StatementArgsSchema,
    StatementSchema,
    VoidSchema,
)
from ..rewards.statements import statement, statement_table
from ..schemas import PageArgsSchema, page_of
from .common import CSV_DOC, filtered_page
from .leads import presented
from .openapi import refusals

blp = Blueprint("rewards", __name__, url_prefix="/api/v1", description="Rewards and ledger")


def _with_figures(program):
    for name, value in programs.program_figures(program).items():
        setattr(program, name, value)
    return program


@blp.route("/reward-programs")
class Programs(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_of(ProgramSchema))
    def get(self, args):
        """List your group's reward programs with budget used and remaining."""
        page = programs.list_programs(current_actor(), args["page"], args["per_page"])
        page.items = [_with_figures(p) for p in page.items]
        return page

    @blp.arguments(ProgramWriteSchema)
    @blp.response(201, ProgramSchema)
    def post(self, data):
        """Create a program; its budget is funded from the group's treasury."""
        return _with_figures(programs.create_program(current_actor(), data))


@blp.route("/reward-programs/<int:program_id>")
class ProgramById(MethodView):
    @blp.response(200, ProgramSchema)
    def get(self, program_id):
        """One program with budget used, remaining, credits and skips by reason."""
        return _with_figures(programs.get_program(current_actor(), program_id))

    @blp.arguments(ProgramPatchSchema(partial=True))
    @blp.response(200, ProgramSchema)
    def patch(self, data, program_id):
        """Change a program; new rules apply to later credits only."""
        return _with_figures(programs.update_program(current_actor(), program_id, data))


@blp.route("/reward-programs/<int:program_id>/fund", methods=["POST"])
@blp.arguments(FundSchema)
@blp.response(200, ProgramSchema)
def fund(data, program_id):
    """Add budget: a funding entry from the treasury to the program."""
    return _with_figures(programs.fund_program(current_actor(), program_id, data["amount"]))


@blp.route("/reward-programs/<int:program_id>/skips")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(SkipSchema))
def skips(args, program_id):
    """Credits that were due but skipped (budget_exhausted, dealer_cap_reached)."""
    return programs.list_skips(current_actor(), program_id, args["page"], args["per_page"])


@blp.route("/ledger/accounts")
@blp.arguments(AccountQuerySchema, location="query")
@blp.response(200, page_of(AccountSchema))
def accounts(args):
    """Ledger accounts and balances (a manager: its own store's accounts)."""
    return filtered_page(books.list_accounts, args)


@blp.route("/ledger/entries")
@blp.arguments(EntryQuerySchema, location="query")
@blp.response(200, page_of(EntrySchema))
def entries(args):
    """Journal entries with their postings, newest first."""
    return filtered_page(books.list_entries, args)


@blp.route("/payouts", methods=["POST"])
@blp.arguments(PayoutSchema)
@blp.response(201, EntrySchema)
@refusals(
    blp,
    {
        409: "The available balance is too small (`balance` says how much is available,"
        " `pending` how much is still on hold); reasons: insufficient_balance."
    },
)
def payouts(data):
    """Pay a dealer: from its available reward money to paid-out, never more than it holds."""
    return pay_out(current_actor(), data["dealer_id"], data["amount"], data.get("memo"))


@blp.route("/dealers/<int:dealer_id>/statement")
@blp.arguments(StatementArgsSchema, location="query")
@blp.response(200, StatementSchema)
@blp.alt_response(200, success=True, **CSV_DOC)
def dealer_statement(args, dealer_id):
    """A dealer's monthly reward statement (format=csv for Excel).

    Each line carries the lead, its customer's name masked, the program, the event and the memo.
    The CSV's columns are English keys unless `lang=zh` (Chinese labels); its times are in the
    group's time zone with the offset written (`2026-12-04 19:30:00+08:00`)."""
    data = statement(current_actor(), dealer_id, args["month"])
    if args["format"] == "csv":
        table = in_language("statement", statement_table(data), args["lang"])
        return csv_attachment(
            csv_text(table), f"statement-{data['dealer']['code']}-{args['month']}.csv"
        )
    return data


@blp.route("/leads/<string:lead_id>/void", methods=["POST"])
@blp.arguments(VoidSchema)
@blp.response(200, LeadSchema)
@refusals(blp, {409: "reasons: already_voided."})
def void(data, lead_id):
    """Void a fraudulent lead (group admin): every credit it earned is reversed."""
    return presented(credits.void_lead, lead_id, data["reason"])


@blp.route("/reward-alerts")
@blp.arguments(AlertQuerySchema, location="query")
@blp.response(200, page_of(AlertSchema))
def reward_alerts(args):
    """Budget alerts of your group's programs (group admin): below alert_below, credits skipped."""
    return filtered_page(alerts.list_alerts, args)
