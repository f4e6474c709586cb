"""`python -m smallretail_llm.bench`: the speed and memory bench (bench/run.py)."""

from smallretail_llm.bench.run import main

main()
