from django import template
from django.urls import reverse
from django.utils.http import urlencode

register = template.Library()

PAGING = {"nach", "vor", "seite"}


@register.simple_tag(takes_context=True)
def narrowed(context, **changes) -> str:
    """The current search with some parameters set (None removes one), from its first page."""
    params = {k: v for k, v in context["request"].GET.items() if k not in PAGING and v}
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params)


@register.simple_tag(takes_context=True)
def paged(context, **cursor) -> str:
    params = {k: v for k, v in context["request"].GET.items() if k not in PAGING and v}
    params.update({k: v for k, v in cursor.items() if v})
    return "?" + urlencode(params)


@register.simple_tag
def day_url(ticker_slug: str, day) -> str:
    return reverse("day", args=[ticker_slug, day.year, day.month, day.day])


@register.filter
def zahl(value) -> str:
    """10000 → "10 000" (narrow no-break space between groups of three)."""
    try:
        return f"{int(value):,}".replace(",", "\u202f")
    except (TypeError, ValueError):
        return value
