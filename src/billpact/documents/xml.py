"""Writing namespaced XML for the e-invoices: `prefix:Name` element names, resolved with a map."""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree


def element(namespaces: Mapping[str, str], parent: etree._Element, name: str, text: str | None = None,
            **attributes: str) -> etree._Element:
    """A child `prefix:Local` of `parent` (with its text and attributes), the prefix looked up in `namespaces`."""
    prefix, local = name.split(":")
    child = etree.SubElement(parent, f"{{{namespaces[prefix]}}}{local}", attributes)
    if text is not None:
        child.text = text
    return child
