from django import template
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils.formats import date_format
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


# --- timeline --------------------------------------------------------------------------
# The SVG's own units; it scales to the column's width (CSS), text with it.
CHART_WIDTH, CHART_HEIGHT = 480, 160
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 34, 474, 12, 128
MAX_TICKS = 6
UNIT_CAPTION = {"hour": "Treffer pro Stunde", "day": "Treffer pro Tag", "month": "Treffer pro Monat"}


def bar_label(unit: str, bar) -> str:
    """What a bar says to a screen reader and in its tooltip: when, and how many."""
    when = {
        "hour": lambda: f"{date_format(bar.start, 'D, d.m.Y')}, {bar.start.hour}–{bar.start.hour + 1} Uhr",
        "day": lambda: date_format(bar.start, "D, d.m.Y"),
        "month": lambda: date_format(bar.start, "F Y"),
    }[unit]()
    return f"{when}: {bar.count} Eintr{'ag' if bar.count == 1 else 'äge'}"


def tick_label(unit: str, bar) -> str:
    if unit == "hour":
        return date_format(bar.start, "d.m.") if bar.start.hour == 0 else f"{bar.start.hour} Uhr"
    return date_format(bar.start, "M Y" if unit == "month" else "d.m.")


def tick_indices(unit: str, bars: list) -> list[int]:
    """Where the x axis is labelled: every six hours of one day, every twelve of two (the labels
    would touch), else at most MAX_TICKS evenly spread bars."""
    if unit == "hour":
        every = 6 if len(bars) <= 24 else 12
        return [i for i, bar in enumerate(bars) if bar.start.hour % every == 0]
    step = max(1, -(-len(bars) // MAX_TICKS))
    return list(range(0, len(bars), step))


def timeline_chart(timeline) -> dict:
    """The geometry of the timeline's SVG: pure, so a test can check it without a browser."""
    bars, most = timeline.bars, max(timeline.most, 1)
    slot = (PLOT_RIGHT - PLOT_LEFT) / len(bars)
    plot_height = PLOT_BOTTOM - PLOT_TOP
    drawn = []
    for index, bar in enumerate(bars):
        # A bar of one hit still shows: at least 2 units high.
        height = max(2.0, plot_height * bar.count / most) if bar.count else 0.0
        drawn.append({
            "bar": bar, "label": bar_label(timeline.unit, bar),
            "x": round(PLOT_LEFT + index * slot + slot * 0.1, 2), "width": round(slot * 0.8, 2),
            "slot_x": round(PLOT_LEFT + index * slot, 2), "slot_width": round(slot, 2),
            "y": round(PLOT_BOTTOM - height, 2), "height": round(height, 2),
        })
    ticks = [{"x": round(PLOT_LEFT + (i + 0.5) * slot, 2), "text": tick_label(timeline.unit, bars[i])}
             for i in tick_indices(timeline.unit, bars)]
    return {
        "width": CHART_WIDTH, "height": CHART_HEIGHT, "bars": drawn, "ticks": ticks, "most": timeline.most,
        "left": PLOT_LEFT, "right": PLOT_RIGHT, "top": PLOT_TOP, "bottom": PLOT_BOTTOM,
        "plot_height": plot_height, "tick_y": PLOT_BOTTOM + 18, "label_x": PLOT_LEFT - 6, "most_y": PLOT_TOP + 5, "caption": UNIT_CAPTION[timeline.unit], "sample": timeline.sample,
    }


@register.inclusion_tag("archive/_timeline.html", takes_context=True)
def timeline_svg(context, timeline) -> dict:
    chart = timeline_chart(timeline)
    for drawn in chart["bars"]:
        bar = drawn["bar"]
        drawn["href"] = narrowed(context, date_from=bar.date_from.isoformat(), date_to=bar.date_to.isoformat())
    return {"chart": chart}


# --- map -------------------------------------------------------------------------------
@register.simple_tag(takes_context=True)
def map_data(context, facets) -> dict:
    """What static/js/map.js draws, handed over in a json_script block (no inline script)."""
    return {
        "tiles": settings.MAP_TILE_URL, "attribution": settings.MAP_TILE_ATTRIBUTION,
        "outline": static("geo/europe.geojson"),
        "places": [{**place, "href": narrowed(context, region=place["slug"])} for place in facets.mapped],
    }
