"""Know-your-transaction policy: flagged lists, rules, decisions, and batch scoring."""
