"""What the pages share, Streamlit-aware: session state, the database, sign-in, plan links, widgets.

Arrows point down only: pages import ui and planner; ui imports planner; nothing imports app.py.
"""
