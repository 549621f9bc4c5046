"""OEM retail confirmation (issue 17 item 3): the codes each OEM knows a store by, the OEM's
retail reports, the flags they raise and the retail audit."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from ..auth.current import current_actor
from ..errors import Invalid
from ..retail import audit, codes, reports
from ..retail.schemas import (
    FlagArgsSchema,
    OemCodesInSchema,
    OemCodesSchema,
    RetailAuditSchema,
    RetailFlagSchema,
    RetailReportDetailSchema,
    RetailReportSchema,
    RetailUploadArgsSchema,
)
from ..schemas import PageArgsSchema, page_of
from .common import filtered_page
from .openapi import refusals

blp = Blueprint("retail", __name__, url_prefix="/api/v1", description="OEM retail confirmation")

CSV_BODY = {
    "required": True,
    "description": "The OEM's retail report: a CSV (UTF-8 or GB18030) whose header names the"
    " columns vin, dealer_code and retail_date (or 车架号, 经销商代码, 零售日期), sent as the"
    " body (Content-Type: text/csv) or as the `file` part of a multipart/form-data upload.",
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}


def _uploaded() -> tuple[bytes, str | None]:
    """The report's bytes and file name, from a text/csv body or a multipart `file` part."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise Invalid("file", "Send the report as the `file` part.", reason="no_file")
        return upload.read(), upload.filename
    if request.mimetype not in ("text/csv", "text/plain"):
        raise Invalid("file", "Send the report as text/csv.", reason="not_csv")
    content = request.get_data(cache=True)
    if not content.strip():
        raise Invalid("file", "The body is empty.", reason="no_file")
    return content, None


@blp.route("/retail-reports")
class RetailReports(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_of(RetailReportSchema))
    def get(self, args):
        """The retail reports you may see, newest first (your OEM's, or your group's)."""
        return reports.list_reports(current_actor(), args["page"], args["per_page"])

    @blp.arguments(RetailUploadArgsSchema, location="query")
    @blp.doc(requestBody=CSV_BODY)
    @blp.response(201, RetailReportDetailSchema)
    @blp.alt_response(
        200,
        schema=RetailReportDetailSchema,
        description="The same file was imported before (in your scope): that import.",
    )
    @refusals(
        blp,
        {
            404: "An OEM auditor named another OEM; reason: not_found.",
            422: "The file cannot be read, or the OEM is unknown; reasons: no_file, not_csv,"
            " not_utf8, bad_header, no_rows, unknown_oem.",
        },
    )
    def post(self, args):
        """Import an OEM's retail report (an OEM auditor for its OEM, a group admin naming it)."""
        content, filename = _uploaded()
        done = reports.import_report(
            current_actor(), args.get("oem_id"), content, args.get("filename") or filename
        )
        return done, 201 if done.created else 200


@blp.route("/retail-reports/<int:report_id>")
class RetailReportById(MethodView):
    @blp.response(200, RetailReportDetailSchema)
    def get(self, report_id):
        """One retail report with its bad and duplicate rows."""
        return reports.get_report(current_actor(), report_id)


@blp.route("/retail-flags")
@blp.arguments(FlagArgsSchema, location="query")
@blp.response(200, page_of(RetailFlagSchema))
def retail_flags(args):
    """Your group's retail flags, newest first: VINs delivered twice, or reported elsewhere."""
    return filtered_page(audit.list_flags, args)


@blp.route("/retail-audit")
@blp.response(200, RetailAuditSchema)
def retail_audit():
    """Per store: deliveries the OEM confirmed, not (yet) confirmed, and flagged."""
    return {"stores": audit.audit_by_store(current_actor())}


@blp.route("/dealers/<int:dealer_id>/oem-codes")
class DealerOemCodes(MethodView):
    @blp.response(200, OemCodesSchema)
    def get(self, dealer_id):
        """The codes each OEM knows the store by (group admin)."""
        return codes.oem_codes(current_actor(), dealer_id)

    @blp.arguments(OemCodesInSchema)
    @blp.response(200, OemCodesSchema)
    @refusals(blp, {409: "Another store has this code with the OEM; reasons: code_taken."})
    def put(self, data, dealer_id):
        """Set the store's OEM dealer codes, one per OEM, each unique within its OEM."""
        return codes.set_oem_codes(current_actor(), dealer_id, data["codes"])
