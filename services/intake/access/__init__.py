"""Who may call intake: API keys, roles and scopes, rate limits, and the audit trail."""
