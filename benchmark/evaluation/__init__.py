"""`infobench evaluate`: accuracy on NLI sets (evaluate.py) and EM/F1 on SQuAD-style sets (qa.py), one record each."""
