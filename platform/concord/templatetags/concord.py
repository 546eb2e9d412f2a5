"""Concord's template tags (registered as the ``concord`` library in settings' TEMPLATES).

- ``{% landmark "Back" %}...{% endlandmark %}``: what it holds, inside ``<nav aria-label="Back">``,
  or nothing at all when it holds nothing. base.html wraps its ``before_content`` block (back
  links, breadcrumbs) in it, so a back link is never outside a landmark (axe's "region") and a
  page without one has no empty landmark. Content that is a landmark itself (GOV.UK's
  breadcrumbs are ``<nav>``) is left as it is.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html

register = template.Library()


class LandmarkNode(template.Node):
    child_nodelists = ("nodelist",)  # so that blocks inside are found and overridden

    def __init__(self, nodelist, label):
        self.nodelist, self.label = nodelist, label

    def render(self, context) -> str:
        content = self.nodelist.render(context)  # already escaped: a SafeString, kept as it is
        if not content.strip():
            return ""
        if content.lstrip().startswith("<nav"):
            return content
        return format_html('<nav aria-label="{}">{}</nav>', self.label.resolve(context), content)


@register.tag
def landmark(parser, token):
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("landmark takes one argument: the landmark's label")
    nodelist = parser.parse(("endlandmark",))
    parser.delete_first_token()
    return LandmarkNode(nodelist, parser.compile_filter(bits[1]))
