"""`infobench attack`: the TextAttack runner, shards and resume (runner.py), the model seam (model_wrapper.py)."""
