"""Language models of stages 2-4: bigram.py, mlp.py, gpt.py."""
