"""Bad-rating follow-up (差评整改) and the standard's statistics.

cases.py (the state machine), escalation.py (overdue cases), workdays.py (deadlines on the Chinese
holiday calendar), stats.py and export.py (好评率 … 按时整改率, CSV and Excel), service.py (the
ingest hook and the alerts), http.py and cli.py. Definitions: docs/statistics.md.
"""
