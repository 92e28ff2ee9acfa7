"""`symgrad serve`: a derivation explorer and practice page in the browser (docs/serve.md).

app.py builds the Starlette app and runs it with uvicorn (the optional `serve` extra); api.py holds
its handlers; worker.py runs each derivation in a process that is killed past its time limit;
jobs.py is that process's work (derive, check, practice); explore.py turns the ops' index forms
into the hover links; mdhtml.py turns the printers' Markdown into HTML for KaTeX; static/ is the
page itself (plain HTML, JS and CSS, KaTeX vendored: no build step, no network).
"""
