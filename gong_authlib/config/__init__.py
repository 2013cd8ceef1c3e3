"""The integration file: loading with positions, schema, Gong rules and the typed model.

Kept empty on purpose: the validate path imports only the submodules it needs
(``yamlsource``, ``schema``, ``rules``, ``validate``), and the typed model in ``model`` is
loaded only by :func:`gong_authlib.load_config`.
"""
