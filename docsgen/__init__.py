"""The documentation site's generated pages, built from the code so they cannot drift.

- :mod:`docsgen.cli_reference`: every command, flag and exit code, from the argparse parser.
- :mod:`docsgen.config_reference`: every key of the integration file (from its JSON Schema) and
  every diagnostic code with an example of its message (from ``DIAGNOSTIC_CODES`` and the
  validator run on a sample).
- :mod:`docsgen.api_reference`: a mkdocstrings entry for every public name.
- :mod:`docsgen.griffe_docstrings`: the docstrings as the API pages show them (Sphinx roles
  as code, each entry opening with its public import).
- :mod:`docsgen.hooks`: the mkdocs hook that puts them into the pages at build time.
- :mod:`docsgen.check_site`: checks a built site has every command and public name.

Not shipped in the wheel: this is the repository's tooling, like ``benchmarks/``.
"""
