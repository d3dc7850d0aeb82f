"""The claimwatch dashboard (`claimwatch dashboard`): a Streamlit multipage app.

Pages: Overview (the default), Claim (`/claim?claim=<id>`), Posts (`/posts?claim=<id>&variant=<v>`),
Spread paths, Sources and SQL. The sidebar's filters (topic, time range, sources) and the data's
freshness are drawn here, so they stay the same from page to page. docs/dashboard.md explains
every page and number.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import common

HERE = Path(__file__).resolve().parent
PAGES = HERE / "screens"

st.set_page_config(page_title="claimwatch", page_icon=":material/travel_explore:", layout="wide")
navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page(PAGES / "claim.py", title="Claim", icon=":material/show_chart:", url_path="claim"),
        st.Page(PAGES / "posts.py", title="Posts", icon=":material/list:", url_path="posts"),
        st.Page(
            PAGES / "paths.py", title="Spread paths", icon=":material/share:", url_path="paths"
        ),
        st.Page(
            PAGES / "sources.py", title="Sources", icon=":material/sensors:", url_path="sources"
        ),
        st.Page(PAGES / "sql.py", title="SQL", icon=":material/terminal:", url_path="sql"),
    ]
)
common.sidebar(with_facts=navigation.url_path in common.FACTS_PAGES)
navigation.run()
