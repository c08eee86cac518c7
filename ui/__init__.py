"""The user-facing edges: the `kyt` command line, and later the Streamlit console."""
