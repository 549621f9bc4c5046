"""Retail schemas: a store's OEM dealer codes, retail reports and their rows, flags, the audit."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, fields, validate, validates_schema

from ..schemas import InputSchema, PageArgsSchema, QueryArgsSchema, UTCDateTime
from .enums import FlagKind, RowProblem, RowStatus


class OemCodeSchema(ma.Schema):
    oem_id = fields.Integer(required=True)
    oem = fields.Function(lambda row: row.oem.name, dump_only=True)
    code = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[0-9A-Za-z._-]{1,50}$", error="Use 1-50 letters, digits, . _ -"
        ),
    )


class OemCodeInSchema(OemCodeSchema, InputSchema):
    pass


class OemCodesSchema(ma.Schema):
    dealer_id = fields.Integer()
    codes = fields.List(fields.Nested(OemCodeSchema))


class OemCodesInSchema(InputSchema):
    codes = fields.List(
        fields.Nested(OemCodeInSchema), required=True, validate=validate.Length(max=50)
    )

    @validates_schema
    def one_code_per_oem(self, data, **kwargs):
        oems = [row["oem_id"] for row in data.get("codes", [])]
        if len(oems) != len(set(oems)):
            raise ValidationError("A store has one code per OEM.", "codes")


class RetailUploadArgsSchema(QueryArgsSchema):
    oem_id = fields.Integer(
        metadata={"description": "the OEM whose report this is (a group admin must name it)"}
    )
    filename = fields.String(validate=validate.Length(max=255))


class ReportRowSchema(ma.Schema):
    row = fields.Integer(attribute="row_number", metadata={"description": "line of the file"})
    vin = fields.String()
    dealer_code = fields.String()
    retail_date = fields.Date(allow_none=True)
    status = fields.String(metadata={"enum": [s.value for s in RowStatus]})
    reason = fields.String(allow_none=True, metadata={"enum": [r.value for r in RowProblem]})
    detail = fields.String(allow_none=True)


class RetailReportSchema(ma.Schema):
    id = fields.Integer()
    oem_id = fields.Integer()
    oem = fields.Function(lambda report: report.oem.name)
    group_id = fields.Integer(allow_none=True)
    filename = fields.String(allow_none=True)
    sha256 = fields.String()
    uploaded_by_id = fields.Integer(allow_none=True)
    rows_total = fields.Integer()
    rows_good = fields.Integer()
    rows_bad = fields.Integer()
    rows_duplicate = fields.Integer()
    confirmed = fields.Integer(metadata={"description": "deliveries the import confirmed"})
    flagged = fields.Integer(metadata={"description": "flags the import raised"})
    created_at = UTCDateTime()


class RetailReportDetailSchema(RetailReportSchema):
    problems = fields.List(
        fields.Nested(ReportRowSchema),
        metadata={"description": "the bad and duplicate rows, in file order"},
    )


class FlagArgsSchema(PageArgsSchema):
    kind = fields.String(validate=validate.OneOf([k.value for k in FlagKind]))


class RetailFlagSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": [k.value for k in FlagKind]})
    vin = fields.String()
    lead_id = fields.Function(lambda flag: flag.lead.public_id)
    holder_id = fields.Integer(allow_none=True)
    holder = fields.Function(lambda flag: flag.holder.name if flag.holder else None)
    other_dealer_id = fields.Integer(allow_none=True)
    other_dealer = fields.Function(
        lambda flag: flag.other_dealer.name if flag.other_dealer else None
    )
    other_lead_id = fields.Function(
        lambda flag: flag.other_lead.public_id if flag.other_lead else None
    )
    created_at = UTCDateTime()


class StoreAuditSchema(ma.Schema):
    dealer_id = fields.Integer()
    dealer_code = fields.String()
    dealer = fields.String()
    delivered = fields.Integer()
    confirmed = fields.Integer()
    unconfirmed = fields.Integer()
    flagged = fields.Integer()


class RetailAuditSchema(ma.Schema):
    stores = fields.List(fields.Nested(StoreAuditSchema))
