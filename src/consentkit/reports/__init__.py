"""Reports: view-models rendered with Jinja2 (autoescaped HTML, plain text), translated.

Templates ship in ``templates/`` and may be overridden by file name from a user folder
(``CONSENTKIT_TEMPLATES``); user templates render in Jinja2's sandbox.
"""
