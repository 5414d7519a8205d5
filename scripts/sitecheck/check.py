#!/usr/bin/env python3
"""Check the pages that a real Jekyll / Hugo build made from newsmd posts.

Called by scripts/sitecheck.sh after both builds. Reads a manifest (TSV, one
row per post and generator):

    generator  want_json  post_rel_path  error

where post_rel_path is the post's path relative to the site source
(_posts/X.md for Jekyll, content/posts/X.md for Hugo) and error is a
non-empty message when the post could not even be written.

The skeleton layouts (scripts/sitecheck/{jekyll,hugo}) mark each post page
with <meta name="sitecheck-source"> (the generator's own idea of the source
path) and <meta name="sitecheck-url"> (the page's own URL), so every post's
page is found exactly, never by guessing a permalink. For each post it checks:

  page   exactly one generated page names the post as its source, and it sits
         where the page's own URL points (URL -> file, %-decoded,
         trailing "/" -> index.html)
  title  <h1 class="post-title"> holds the want.json title, byte for byte,
         HTML-escaped the way that generator escapes (Jekyll's `escape` is
         CGI.escapeHTML; Hugo's is Go html/template)
  date   <time class="post-date"> holds the want.json `published` day,
         rendered as YYYY-MM-DD in +08:00 (Asia/Singapore)
  link   Jekyll: the body's title link (`[title](url)` then `------`)
         rendered to an <a href=url> whose text is the title (typographic
         quotes, dashes and ellipses folded, since kramdown and Goldmark both
         "smarten" them). Hugo: no such header (it would be a second
         heading): the body has no link to url; the theme's
         a.post-source, from the front matter's source, links url
  index  the home page links to the post's URL

Prints one line per post: "ok GEN TITLE" or "FAIL GEN TITLE: reason; ...",
then "N passed, N failed". Exits 1 on any failure or when no post was
checked.
"""

import argparse
import datetime as dt
import html
import json
import os
import sys
from html.parser import HTMLParser
from urllib.parse import unquote

SGT = dt.timezone(dt.timedelta(hours=8))
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}


def escape_jekyll(s):
    # Liquid/Jekyll `escape` filter == CGI.escapeHTML.
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
             .replace('"', "&quot;").replace("'", "&#39;"))


def escape_hugo(s):
    # Go html/template, text context (htmlReplacementTable).
    out = []
    table = {"\0": "\ufffd", '"': "&#34;", "&": "&amp;", "'": "&#39;",
             "+": "&#43;", "<": "&lt;", ">": "&gt;"}
    for ch in s:
        out.append(table.get(ch, ch))
    return "".join(out)


ESCAPE = {"jekyll": escape_jekyll, "hugo": escape_hugo}


def fold_typography(s):
    """Undo kramdown/Goldmark smart punctuation, and squeeze spaces."""
    for a, b in (("\u201c", '"'), ("\u201d", '"'), ("\u201e", '"'),
                 ("\u2018", "'"), ("\u2019", "'"), ("\u2014", "---"),
                 ("\u2013", "--"), ("\u2026", "..."), ("\u00ab", "<<"),
                 ("\u00bb", ">>"), ("\u00a0", " ")):
        s = s.replace(a, b)
    return " ".join(s.split())


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.meta = {}
        self.h1 = None
        self.date = None
        self.links = []          # (href, text) inside div.post-content
        self.index_links = []    # hrefs of a.post-link
        self.sources = []        # (href, text) of a.post-source
        self._stack = []
        self._grab = None        # ("h1"|"date"|"a", depth, buf, href)
        self._content_depth = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "meta" and a.get("name", "").startswith("sitecheck-"):
            self.meta.setdefault(a["name"], []).append(a.get("content") or "")
        if tag in VOID:
            return
        self._stack.append(tag)
        depth = len(self._stack)
        if tag == "div" and "post-content" in cls and self._content_depth is None:
            self._content_depth = depth
        if tag == "a" and "post-link" in cls:
            self.index_links.append(a.get("href") or "")
        if self._grab is None:
            if tag == "h1" and "post-title" in cls:
                self._grab = ["h1", depth, [], None]
            elif tag == "time" and "post-date" in cls:
                self._grab = ["date", depth, [], None]
            elif tag == "a" and self._content_depth is not None:
                self._grab = ["a", depth, [], a.get("href") or ""]
            elif tag == "a" and "post-source" in cls:
                self._grab = ["source", depth, [], a.get("href") or ""]

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self._stack and self._stack[-1] == tag:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in VOID or tag not in self._stack:
            return
        while self._stack:
            depth = len(self._stack)
            top = self._stack.pop()
            if self._grab is not None and self._grab[1] == depth:
                kind, _, buf, href = self._grab
                text = "".join(buf)
                if kind == "h1" and self.h1 is None:
                    self.h1 = text
                elif kind == "date" and self.date is None:
                    self.date = text.strip()
                elif kind == "a":
                    self.links.append((href, text))
                elif kind == "source":
                    self.sources.append((href, text))
                self._grab = None
            if self._content_depth == depth:
                self._content_depth = None
            if top == tag:
                break

    def handle_data(self, data):
        if self._grab is not None:
            self._grab[2].append(data)


def parse(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        raw = f.read()
    p = Page()
    p.feed(raw)
    p.close()
    return raw, p


def url_to_file(url):
    path = unquote(url.split("#", 1)[0].split("?", 1)[0])
    if path.endswith("/"):
        path += "index.html"
    return path.lstrip("/")


def want_day(published):
    s = published.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    t = dt.datetime.fromisoformat(s)
    if t.tzinfo is None:
        t = t.replace(tzinfo=SGT)
    return t.astimezone(SGT).strftime("%Y-%m-%d")


class Site:
    def __init__(self, gen, src, out, built):
        self.gen, self.src, self.out, self.built = gen, src, out, built
        self.by_source = {}
        self.index = None
        if not built or not os.path.isdir(out):
            return
        for dirpath, _, files in os.walk(out):
            for name in files:
                if not name.endswith(".html"):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, out)
                raw, page = parse(full)
                if rel == "index.html":
                    self.index = page
                for source in page.meta.get("sitecheck-source", []):
                    self.by_source.setdefault(source, []).append((rel, raw, page))

    def source_key(self, post_rel):
        # Jekyll's page.path is relative to the site source (_posts/X.md);
        # Hugo's .File.Path is relative to the content dir (posts/X.md).
        if self.gen == "hugo" and post_rel.startswith("content/"):
            return post_rel[len("content/"):]
        return post_rel


def check_one(site, post_rel, want, verbose):
    title = want["title"]
    problems = []
    hits = site.by_source.get(site.source_key(post_rel), [])
    if not hits:
        return ["no generated page names %s as its source" % post_rel], None
    if len(hits) > 1:
        return ["%d pages claim %s: %s" % (len(hits), post_rel,
                                           ", ".join(h[0] for h in hits))], None
    rel, raw, page = hits[0]
    urls = page.meta.get("sitecheck-url", [])
    url = urls[0] if urls else ""
    if url_to_file(url) != rel:
        problems.append("page is at %s but its URL %r points to %s"
                        % (rel, url, url_to_file(url)))
    esc = ESCAPE[site.gen](title)
    if '<h1 class="post-title">%s</h1>' % esc not in raw:
        problems.append("title: want <h1>%s</h1>, page has <h1>%s</h1>"
                        % (esc, html.escape(page.h1 or "", quote=False)
                           if page.h1 is not None else "(none)"))
    try:
        day = want_day(want["published"])
    except (KeyError, ValueError) as e:
        problems.append("want.json published unusable: %s" % e)
        day = None
    if day is not None and page.date != day:
        problems.append("date: want %s, page has %s" % (day, page.date))
    # The post links the canonical URL; "url" is where the page was fetched from.
    link_url = want.get("canonical_url") or want.get("url")
    if link_url and site.gen == "hugo":
        if any(h == link_url for h, _ in page.links):
            problems.append("body links %s: a legacy title header?" % link_url)
        texts = [t for h, t in page.sources if h == link_url]
        if not texts:
            problems.append("no a.post-source links %s (front matter source)" % link_url)
        elif fold_typography(title) not in [fold_typography(t) for t in texts]:
            problems.append("source link text %r is not the title" % texts[0])
    elif link_url:
        texts = [t for h, t in page.links if h == link_url]
        if not texts:
            problems.append("body has no link to %s" % link_url)
        elif fold_typography(title) not in [fold_typography(t) for t in texts]:
            problems.append("body link text %r is not the title" % texts[0])
    if site.index is None:
        problems.append("site has no index.html")
    elif url and url_to_file(url) not in [url_to_file(h) for h in site.index.index_links]:
        problems.append("index does not link to %s" % url)
    return problems, (rel, url)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--site", action="append", default=[],
                    help="GEN=SRC_DIR:OUT_DIR:ok|failed")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    sites = {}
    for spec in args.site:
        gen, rest = spec.split("=", 1)
        src, out, status = rest.rsplit(":", 2)
        sites[gen] = Site(gen, src, out, status == "ok")

    passed = failed = 0
    with open(args.manifest, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    for gen, want_path, post_rel, error in rows:
        want = {}
        label = post_rel or want_path
        if want_path:
            try:
                with open(want_path, encoding="utf-8") as wf:
                    want = json.load(wf)
                label = want.get("title") or label
            except (OSError, ValueError) as e:
                error = error or "cannot read %s: %s" % (want_path, e)
        if not error and "title" not in want:
            error = "%s has no title" % want_path
        site = sites.get(gen)
        if not error and (site is None or not site.built):
            error = "%s build failed" % gen
        if error:
            failed += 1
            print("FAIL %s %s: %s" % (gen, label, error))
            continue
        problems, where = check_one(site, post_rel, want, args.verbose)
        if problems:
            failed += 1
            print("FAIL %s %s: %s" % (gen, label, "; ".join(problems)))
        else:
            passed += 1
            print("ok %s %s" % (gen, label))
        if args.verbose:
            print("    post: %s" % post_rel)
            if where:
                print("    page: %s  (url %s)" % where)
    if passed + failed == 0:
        print("FAIL no posts were checked")
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
