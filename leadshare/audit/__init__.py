"""Audit: the funnel, flow and lead-list reports built on the lead trail, and their exports."""
