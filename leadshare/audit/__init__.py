"""Audit: the tamper-evident event chain and the reports built on the trail."""
