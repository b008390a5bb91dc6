"""Every page of the built book, opened in headless Chromium, loads offline and whole.

A page fails on a JavaScript error, a console error, a request to anything but a local file (the
book must not need a CDN), a failed local request, an image that did not load, math that MathJax
did not typeset, or a stderr block shown to the reader; and, in a reader's 1280-px-wide window, on
a table whose content is wider than its container or than the text column. Needs a built book
(``make book``) and Debian's ``chromium``; without them the page tests skip, unless
``MSA_REQUIRE_BROWSER=1`` (``make check-html``, run by CI after ``make book``) turns the skip into
a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from msa_lib.io.paths import repo_root

HTML = repo_root() / "book" / "_build" / "html"
REQUIRED = os.environ.get("MSA_REQUIRE_BROWSER") == "1"
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
READER_WINDOW = {"width": 1280, "height": 900}  # a laptop's browser window, in CSS px
# Every visible table that does not fit: its content is wider than the box that clips it (a
# scroll container: the table itself or an ancestor with overflow-x other than visible), or its
# right edge passes the text column's (``.bd-article``; ``.full-width`` for a full-width table).
WIDE_TABLES_JS = """
() => {
  const clips = el => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(el).overflowX);
  const column = t => t.closest('.full-width') || t.closest('.bd-article') || t.closest('article')
    || t.closest('main') || document.body;
  const name = (t, i) => {
    const c = t.querySelector('caption');
    const text = (c ? c.innerText : '').replace(/\\s+/g, ' ').trim();
    return text ? text.slice(0, 80) : `table ${i + 1} (no caption)`;
  };
  const out = [];
  document.querySelectorAll('table').forEach((t, i) => {
    if (!t.getClientRects().length) return;  // not shown
    const col = column(t);
    let box = null;
    for (let el = t; el && el !== col.parentElement; el = el.parentElement) {
      if (clips(el) && el.scrollWidth > el.clientWidth + 1) { box = el; break; }
    }
    const edge = t.getBoundingClientRect(), limit = col.getBoundingClientRect();
    if (box) out.push({name: name(t, i), content: box.scrollWidth, container: box.clientWidth});
    else if (edge.right > limit.right + 1)
      out.push({name: name(t, i), content: Math.round(edge.right - limit.left),
                container: Math.round(limit.width)});
  });
  return out;
}
"""
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def unavailable(reason: str):
    """Skip, or fail when the check is required (``make check-html``)."""
    if REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


def chromium_path() -> str | None:
    """Debian's chromium (or ``$MSA_CHROMIUM``)."""
    return os.environ.get("MSA_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium context with a fresh profile, driven by Playwright."""
    exe = chromium_path()
    if exe is None:
        unavailable("no chromium on PATH (Debian: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (requirements.txt)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=exe,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport=READER_WINDOW,
            timeout=180000,  # a first start builds font caches
        )
        yield context
        context.close()


def page_problems(context, url: str, timeout_ms: int = 15000) -> list[str]:
    """What goes wrong when ``url`` is opened: one line per problem, empty when none."""
    problems: list[str] = []
    page = context.new_page()

    def route(r):
        if r.request.url.startswith(LOCAL_SCHEMES):
            r.continue_()
        else:
            problems.append(f"request to a non-local URL: {r.request.url}")
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda e: problems.append(f"JavaScript error: {e}"))
    page.on(
        "console",
        lambda m: problems.append(f"console error: {m.text}") if m.type == "error" else None,
    )
    page.on(
        "requestfailed",
        lambda r: (
            None
            if not r.url.startswith(LOCAL_SCHEMES)  # already reported by route()
            else problems.append(f"failed request: {r.url} ({r.failure})")
        ),
    )
    try:
        page.goto(url, wait_until="load", timeout=timeout_ms)
        page.wait_for_load_state("networkidle", timeout=timeout_ms)  # index.html redirects
        page.evaluate("document.querySelectorAll('img').forEach(i => (i.loading = 'eager'))")
        page.wait_for_load_state("networkidle", timeout=timeout_ms)
        broken = page.evaluate(
            "Array.from(document.images)"
            ".filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
        )
        problems += [f"image did not load: {src}" for src in broken]
        if page.evaluate("document.querySelectorAll('.math').length > 0"):
            try:
                page.wait_for_selector("mjx-container", state="attached", timeout=timeout_ms)
            except Exception:
                problems.append("math on the page was not typeset by MathJax")
        stderr = page.evaluate("document.querySelectorAll('.output.stderr').length")
        if stderr:
            problems.append(f"{stderr} stderr output block(s) shown to the reader")
    finally:
        page.close()
    return problems


def wide_tables(context, url: str, timeout_ms: int = 15000) -> list[str]:
    """Tables on ``url`` wider than their container at :data:`READER_WINDOW`: one line each."""
    page = context.new_page()
    try:
        page.set_viewport_size(READER_WINDOW)
        page.goto(url, wait_until="load", timeout=timeout_ms)
        page.wait_for_load_state("networkidle", timeout=timeout_ms)
        page.evaluate("document.fonts.ready.then(() => true)")  # widths depend on the fonts
        found = page.evaluate(WIDE_TABLES_JS)
    finally:
        page.close()
    return [
        f"{t['name']}: content {t['content']} px wide in a {t['container']} px container"
        for t in found
    ]


def built_pages() -> list[Path]:
    """The HTML pages of the built book."""
    return sorted(HTML.glob("*.html"))


def test_the_check_reports_what_it_promises(browser, tmp_path):
    (tmp_path / "ok.png").write_bytes(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
        )
    )
    good = tmp_path / "good.html"
    good.write_text('<html><body><img src="ok.png"><p>fine</p></body></html>')
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<html><body>"
        '<img src="missing.png">'
        '<script src="https://cdn.example.invalid/lib.js"></script>'
        "<script>undefinedFunction();</script>"
        '<div class="output stderr">warning</div>'
        "</body></html>"
    )
    assert page_problems(browser, good.as_uri()) == []
    found = "\n".join(page_problems(browser, bad.as_uri()))
    assert "non-local URL: https://cdn.example.invalid/lib.js" in found
    assert "JavaScript error" in found and "undefinedFunction" in found
    assert "image did not load" in found and "missing.png" in found
    assert "stderr output block" in found


def test_the_table_check_finds_tables_wider_than_their_column(browser, tmp_path):
    cells = "".join(f"<td>value&nbsp;number&nbsp;{i}</td>" for i in range(30))
    page = tmp_path / "tables.html"
    page.write_text(
        "<html><body><article class='bd-article' style='width:600px'>"
        "<table><caption>Table 1.1: fits</caption><tr><td>1</td><td>2</td></tr></table>"
        f"<table><caption>Table 1.2: runs past the column</caption><tr>{cells}</tr></table>"
        "<div style='overflow-x:auto'><table>"
        f"<caption>Table 1.3: scrolls in its box</caption><tr>{cells}</tr></table></div>"
        "<div class='full-width' style='width:1200px'><table>"
        "<caption>Table 1.4: fits the full width</caption><tr><td>1</td></tr></table></div>"
        "</article></body></html>"
    )
    found = wide_tables(browser, page.as_uri())
    assert [line.split(":")[0] for line in found] == ["Table 1.2", "Table 1.3"], found
    assert all("px wide in a 600 px container" in line for line in found), found


@pytest.mark.parametrize("name", [p.name for p in built_pages()] or ["(no build)"])
def test_built_page_loads_offline_and_whole(browser, name):
    if not (HTML / "index.html").is_file():
        unavailable(f"no built book in {HTML}: run `make book` first")
    problems = page_problems(browser, (HTML / name).as_uri())
    assert not problems, f"{name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", [p.name for p in built_pages()] or ["(no build)"])
def test_built_page_tables_fit_the_column(browser, name):
    if not (HTML / "index.html").is_file():
        unavailable(f"no built book in {HTML}: run `make book` first")
    wide = "\n".join(wide_tables(browser, (HTML / name).as_uri()))
    assert not wide, f"{name}, {READER_WINDOW['width']} px window, tables that do not fit:\n{wide}"


def test_every_chapter_was_built():
    if not (HTML / "index.html").is_file():
        unavailable(f"no built book in {HTML}: run `make book` first")
    from msa_lib.book.build import toc_chapters

    chapters = toc_chapters(repo_root() / "book" / "_toc.yml")
    missing = [c for c in chapters if not (HTML / f"{c}.html").is_file()]
    if missing and not REQUIRED:
        pytest.skip(f"chapters not built in this build (msa book --only): {missing}")
    assert not missing, f"chapters missing from {HTML}: {missing}"
