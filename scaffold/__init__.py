"""`make provider`: a new provider's integration generated from the templates under ``scaffold/templates``.

- ``spec``: the options checked, and every name derived from them.
- ``template_yaml``: template.yaml edited with ruamel.yaml's round trip.
- ``generate``: render (copier), check nothing clashes, write, record; and the way back.
"""
