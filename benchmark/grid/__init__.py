"""`infobench grid`: spec (spec.py), plan and run (driver.py), Ray workers (engine.py), what a worker runs (tasks.py)."""
