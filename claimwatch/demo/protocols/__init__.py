"""Each source's API as the demo server speaks it: one module per source, `common.py` for
what several share. A route's function takes the visible posts, the parsed query and the
time, and returns a `Reply` for the server to send."""
