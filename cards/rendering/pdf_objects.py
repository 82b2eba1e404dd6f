"""Following a WeasyPrint page's references to the objects pydyf holds for it."""


def referenced(pdf, reference):
    """The object a reference such as `b"12 0 R"` or `"12 0 R"` names."""
    return pdf.objects[int(reference.split()[0])]


def page_contents(pdf, page):
    """The page's content stream (WeasyPrint writes one per page)."""
    return referenced(pdf, page["Contents"])
