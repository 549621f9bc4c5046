"""Notifications: an outbox of webhook messages to stores, delivered by `flask leadshare deliver`.

outbox.py writes rows in the transaction of each change; formats.py renders WeCom markdown or
signed JSON; deliver.py claims, sends and retries; urls.py keeps webhooks off internal hosts.
"""
