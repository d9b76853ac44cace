"""`infobench leaderboard`: tables from records (tables.py), their md/csv/html forms (render.py), plots (plots.py)."""
