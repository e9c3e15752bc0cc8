"""Reports: view-models rendered with Jinja2 (autoescaped HTML, Markdown, plain text), translated.

* ``subject``, ``dpo``, ``ropa``: plain-data view-models of the subject access report, the
  DPO's review and the records of processing (also their JSON documents);
* ``receipt``: the human-readable consent receipt;
* ``output``: HTML, Markdown, JSON, CSV and PDF; ``charts``: inline SVG;
* ``deadline``, ``formats``, ``labels``, ``organisation``, ``redaction``: the pack's clock,
  dates and numbers per language, catalog labels, the organisation file, third parties.

Templates ship in ``templates/`` and may be overridden by file name from a user folder
(``CONSENTKIT_TEMPLATES``); user templates render in Jinja2's sandbox.
"""
