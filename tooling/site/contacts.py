"""The team's contacts as HTML, written once for the home page and the footer of every page.

Phone numbers become ``tel:`` links (one tap calls on a phone); everything
else is escaped text. Both the page templates (:mod:`tooling.site.render`) and
the theme's footer (:mod:`tooling.site.mkdocs_plugin`) use :func:`contacts_html`.
"""

from __future__ import annotations

from html import escape

from tooling.kb.model import Contact, SiteIdentity


def _value(contact: Contact) -> str:
    if contact.phone and contact.tel:
        return f'<a class="zhiku-tel" href="tel:{contact.tel}">{escape(contact.phone)}</a>'
    return escape(contact.text or contact.phone)


def contact_rows(site: SiteIdentity) -> list[tuple[str, str]]:
    """``(label, value HTML)`` for every contact, then the hours and the address."""
    rows = [(escape(c.label), _value(c)) for c in site.contacts]
    if site.hours:
        rows.append(("服务时间", escape(site.hours)))
    if site.address:
        rows.append(("地址", escape(site.address)))
    return rows


def contacts_html(site: SiteIdentity, css_class: str = "zhiku-contacts") -> str:
    """The contacts as one ``<ul>`` on one line (safe inside a Markdown page), or ``""``."""
    rows = contact_rows(site)
    if not rows:
        return ""
    items = "".join(
        f'<li><span class="{css_class}__label">{label}</span> '
        f'<span class="{css_class}__value">{value}</span></li>'
        for label, value in rows
    )
    return f'<ul class="{css_class}">{items}</ul>'


def hotline_html(site: SiteIdentity) -> str:
    """The first phone contact as one tappable line for the top of the home page, or ``""``."""
    first = next((c for c in site.contacts if c.phone and c.tel), None)
    if first is None:
        return ""
    return (
        f'<p class="zhiku-hotline"><span class="zhiku-hotline__label">{escape(first.label)}</span> '
        f"{_value(first)}</p>"
    )
