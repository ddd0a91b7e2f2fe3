"""The auditor's toolkit on the service side: keys, export, replay and diff, reconciliation, schedule."""
