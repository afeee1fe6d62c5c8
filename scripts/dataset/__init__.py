"""The dataset builder behind scripts/build_dataset.py: build-time only, never imported by nkbrief/ or ui/.

:mod:`scripts.dataset.reconcile` merges the public datasets (CNS, nagix, CSIS, the news notes) into
``resources/events.json``. The grouping it shares with the importer (a CNS, nagix or CSIS file an
analyst imports) is :mod:`nkbrief.importing.grouping`, which it imports; the application never
imports this package, so the builder is not in the runtime import path or the bundle.
"""
