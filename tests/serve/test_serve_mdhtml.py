"""The printers' Markdown as the page's HTML: every character escaped, math left as text for KaTeX."""

from symgrad.serve.mdhtml import to_html


def test_text_is_escaped_and_math_is_kept_for_katex():
    html = to_html('# A <script>alert(1)</script> & "title"\n\nSome $a < b$ and `x<y`, **bold** <b>.\n')
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<span class="math">a &lt; b</span>' in html
    assert "<code>x&lt;y</code>" in html and "<strong>bold</strong> &lt;b&gt;." in html


def test_display_math_tables_lists_and_code():
    markdown = ("$$\nX = \\begin{bmatrix}1 & 2 \\\\\n3 & 4\\end{bmatrix}\n$$\n\n"
                "| | 1 | 2 |\n|---|---|---|\n| **1** | $36$ | **[ $80$ ]** (1,1) |\n\n"
                "- one\n- two $k$\n\n```python\nprint('<hi>')\n```\n")
    html = to_html(markdown)
    assert '<div class="math display">X = \\begin{bmatrix}1 &amp; 2 \\\\\n3 &amp; 4\\end{bmatrix}</div>' in html
    assert "<thead><tr><th></th><th>1</th><th>2</th></tr></thead>" in html
    assert '<td><strong>[ <span class="math">80</span> ]</strong> (1,1)</td>' in html
    assert '<ul><li>one</li><li>two <span class="math">k</span></li></ul>' in html
    assert "<pre><code>print(&#x27;&lt;hi&gt;&#x27;)</code></pre>" in html


def test_an_unclosed_bold_or_block_is_closed():
    assert to_html("**open") == "<p><strong>open</strong></p>\n"
    assert to_html("$$\nx") == '<div class="math display">x</div>\n'
