"""Customer replies: approved templates, the tipping-off linter, messages and service standards."""
