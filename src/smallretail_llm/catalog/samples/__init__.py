"""The sample catalog: three fictional shops' exports (CSV) and policies (shops.json), generated
by `python -m smallretail_llm.catalog.samples.build` from the data modules in this package."""
