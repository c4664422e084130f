"""How it works: the method behind the numbers, in a rep's words."""

from __future__ import annotations

import streamlit as st

from ui import auth

auth.enter_page("guide")

st.title("How Backplan works")
st.markdown(
    """
Backplan plans **backwards**: start from the number you must hit, then work back to the deals,
the funnel, the pipeline and the weekly activity it takes.

1. **Break the goal into deals.** $385,000 at an average sale of $3,850 is 100 sales
   (target ÷ deal size, rounded up: you cannot win part of a deal).
2. **Walk the funnel backwards with conversion ratios.** A ratio of *2 : 1* means two of a stage
   for one of the next — a 50% conversion rate. With 2 : 1 at every step, 100 sales need
   200 qualified prospects, 400 meetings and 800 connection requests.
3. **Spread it over the weeks you actually work.** Totals are divided over the working days of
   the period (weekends and the holiday weeks you mark are left out). A *lag* moves a stage's
   activity earlier: if a meeting takes 14 days to become a qualified prospect, the meetings for a
   deal closing in March happen two weeks before. The first deal's chain of lags gives the
   **start-by** date.
4. **Keep enough pipeline open.** The pipeline you need on the first of each month is the
   coverage ratio (3× by default) times that month's share of the target.
5. **Pull the cheapest lever.** Deal size, every conversion rate and your weekly activity all
   multiply: +10% on any of them saves about 9% of the prospecting effort. The levers chart shows
   exactly how much each one saves for your plan, rounding included.
"""
)
st.info("Your inputs on the Plan page are kept while you read this.", icon=":material/info:")
