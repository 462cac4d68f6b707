"""The dashboard's pages and parts (Streamlit); they read through monitor/queries.py and write
through monitor/actions.py, never SQL of their own."""
