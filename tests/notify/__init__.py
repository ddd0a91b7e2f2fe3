"""Notification channels: planning from the org chart, inbox, SMTP, robots, retries and the digest."""
