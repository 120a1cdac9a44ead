"""Writing namespaced XML for the e-invoices: `prefix:Name` element names, resolved with a map."""

from __future__ import annotations

import re
from collections.abc import Mapping

from lxml import etree

# What XML 1.0 cannot carry (C0 controls but tab, newline and return; surrogates; U+FFFE, U+FFFF).
# Stored text may hold such characters (an imported name or a credit note's reason): they are dropped,
# so the e-invoice is still well-formed XML instead of a crash.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", text)


def element(namespaces: Mapping[str, str], parent: etree._Element, name: str, text: str | None = None,
            **attributes: str) -> etree._Element:
    """A child `prefix:Local` of `parent` (with its text and attributes), the prefix looked up in `namespaces`."""
    prefix, local = name.split(":")
    child = etree.SubElement(parent, f"{{{namespaces[prefix]}}}{local}",
                             {key: xml_text(value) for key, value in attributes.items()})
    if text is not None:
        child.text = xml_text(text)
    return child
