"""The Streamlit console: analysts, support agents and supervisors (start it with `kyt ui`)."""
