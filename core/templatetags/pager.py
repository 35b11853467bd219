"""``{% pager page %}``: the links below a paginated table of a web page (Django's
``Paginator`` page), keeping the request's other query parameters (a search, a filter)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("core/_pager.html", takes_context=True)
def pager(context, page, previous_label: str = "Previous", next_label: str = "Next") -> dict:
    """Previous and next links and "Page n of m", only when there is more than one page."""
    query = context["request"].GET.copy()

    def link(number: int) -> str:
        query["page"] = number
        return "?" + query.urlencode()

    return {
        "page": page,
        "previous_url": link(page.previous_page_number()) if page.has_previous() else None,
        "next_url": link(page.next_page_number()) if page.has_next() else None,
        "previous_label": previous_label,
        "next_label": next_label,
    }
