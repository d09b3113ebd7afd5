"""Alerts for the duty manager: a 差评, an overdue follow-up case, an over-long wait.

`AlertFeed` is an in-process publish/subscribe hub (gateway/alerts/feed.py); the dashboard
streams it (SSE), and channels such as `WebhookChannel` (gateway/alerts/webhook.py) forward every
alert out of the gateway. docs/alerts.md describes the API and the alert kinds.
"""
