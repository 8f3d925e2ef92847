"""What a plain HTTP request to a WebSocket listener gets: the browser client's files, no I/O."""

from __future__ import annotations

import importlib.resources

import pytest

from trio_chat.web import Pages
from trio_chat.web.pages import CONTENT_SECURITY_POLICY

FILES = {
    "index.html": b"<!DOCTYPE html><title>chat</title>",
    "style.css": b"body { margin: 0 }",
    "app.js": b"import './chat.js';",
    "chat.js": b"export {};",
}
SECURITY = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def answer(method, path, listener_path="/"):
    status, headers, body = Pages(FILES).answer(method, path, listener_path)
    names = [name for name, _ in headers]
    assert len(names) == len(set(names))
    return status, dict(headers), body


def test_the_listeners_own_path_gets_the_page_with_every_header():
    status, headers, body = answer("GET", "/chat", "/chat")
    assert status == 200
    assert body == FILES["index.html"]
    assert headers == {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Length": str(len(body)),
        **SECURITY,
    }


def test_the_policy_admits_only_the_servers_own_files():
    assert CONTENT_SECURITY_POLICY == (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("style.css", "text/css"),
        ("app.js", "text/javascript"),
        ("chat.js", "text/javascript"),
    ],
)
def test_each_file_is_served_beside_the_page_with_its_type(name, kind):
    status, headers, body = answer("GET", f"/{name}")
    assert (status, body) == (200, FILES[name])
    assert headers == {"Content-Type": kind, "Content-Length": str(len(body)), **SECURITY}


@pytest.mark.parametrize(
    ("listener_path", "page", "style"),
    [
        ("/", "/", "/style.css"),
        ("/chat", "/chat", "/style.css"),  # a browser resolves style.css beside /chat
        ("/chat/", "/chat/", "/chat/style.css"),
        ("/a/b", "/a/b", "/a/style.css"),
    ],
)
def test_files_are_where_the_pages_relative_links_point(listener_path, page, style):
    assert answer("GET", page, listener_path)[2] == FILES["index.html"]
    assert answer("GET", style, listener_path)[2] == FILES["style.css"]


@pytest.mark.parametrize(("listener_path", "elsewhere"), [("/chat/", "/style.css"), ("/chat", "/")])
def test_files_are_not_served_outside_the_pages_folder(listener_path, elsewhere):
    assert answer("GET", elsewhere, listener_path)[0] == 404


@pytest.mark.parametrize("path", ["/?x=1", "/?", "/?nick=alice&room=%23lobby"])
def test_a_query_string_still_gets_the_page(path):
    status, _, body = answer("GET", path)
    assert (status, body) == (200, FILES["index.html"])


@pytest.mark.parametrize(
    "path",
    [
        "/nothing",
        "/../x",
        "/%2e%2e/",
        "/%2e%2e/pyproject.toml",
        "/..%2fpages.py",
        "//chat.js",
        "/./chat.js",
        "/static/chat.js",
        "/chat.js/",
        "/CHAT.JS",
        "/chat.js%00",
        "/__init__.py",
        "/pages.py",
        "http://127.0.0.1/chat.js",
        "*",
        "",
    ],
)
def test_anything_but_a_known_file_is_404(path):
    status, headers, body = answer("GET", path)
    assert status == 404
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["Content-Length"] == str(len(body))
    assert SECURITY.items() <= headers.items()
    assert body == b"not found\n"


def test_head_gets_the_headers_of_get_and_no_body():
    for path in ("/", "/app.js", "/nothing"):
        get, head = answer("GET", path), answer("HEAD", path)
        assert head[:2] == get[:2]
        assert head[2] == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get"])
def test_other_methods_are_not_allowed(method):
    for path in ("/", "/style.css", "/nothing"):
        status, headers, body = answer(method, path)
        assert status == 405
        assert headers["Allow"] == "GET, HEAD"
        assert SECURITY.items() <= headers.items()
        assert body == b"method not allowed\n"


def test_a_client_without_a_page_is_refused():
    with pytest.raises(ValueError, match=r"no index\.html"):
        Pages({"style.css": b""})


def test_the_packaged_client_is_loaded_whole_and_served():
    folder = importlib.resources.files("trio_chat.web") / "static"
    on_disk = {
        entry.name: entry.read_bytes()
        for entry in folder.iterdir()
        if entry.is_file() and not entry.name.startswith(".")
    }
    pages = Pages.load()
    assert pages.files == on_disk
    assert pages.answer("GET", "/", "/")[2] == on_disk["index.html"]
    for name, content in on_disk.items():
        assert pages.answer("GET", f"/{name}", "/")[2] == content
