"""``{% pager page %}`` (core.templatetags.pager): the links below the web pages' tables."""

from __future__ import annotations

import re

from django.core.paginator import Paginator
from django.template import Context, Template
from django.test import RequestFactory

TEMPLATE = Template("{% load pager %}{% pager page %}")
LABELLED = Template('{% load pager %}{% pager page "Newer" "Older" %}')


def render(path: str, *, template: Template = TEMPLATE, items: int = 25, per_page: int = 10):
    request = RequestFactory().get(path)
    page = Paginator(range(items), per_page).get_page(request.GET.get("page"))
    html = template.render(Context({"request": request, "page": page}))
    return html, dict(re.findall(r'<a href="([^"]+)" rel="(\w+)"', html))


def test_a_middle_page_links_both_ways_and_keeps_the_other_parameters():
    html, links = render("/passport/p/?q=lmt&page=2")
    assert "Page 2 of 3" in html
    assert links == {"?q=lmt&amp;page=1": "prev", "?q=lmt&amp;page=3": "next"}


def test_the_first_and_last_pages_link_one_way():
    first, first_links = render("/list/")
    last, last_links = render("/list/?page=3")
    assert "Page 1 of 3" in first and list(first_links.values()) == ["next"]
    assert "Page 3 of 3" in last and list(last_links.values()) == ["prev"]


def test_one_page_shows_no_pager():
    html, links = render("/list/", items=5)
    assert html.strip() == "" and links == {}


def test_labels_can_be_named_and_text_is_escaped():
    html, _ = render('/list/?page=2&q=<b>"x"', template=LABELLED)
    assert ">Newer</a>" in html and ">Older</a>" in html
    assert "<b>" not in html and "%3Cb%3E" in html
