"""Our parse builds the tree trafilatura.load_html builds, on the inputs its repairs exist for."""
import pytest
import trafilatura
from lxml import etree

from pipelines.steps.extract import parse

BODY = "<body><article><h1>Title</h1><p>One paragraph of text, long enough.</p><p>Another one.</p></article></body>"
CASES = {
    "plain": f"<!DOCTYPE html><html lang='en'><head><title>T</title></head>{BODY}</html>",
    "control characters": "<html><head><title>T\x01</title></head>" + BODY.replace("Another", "An\x0bother\x1f") + "</html>",
    "noncharacters": "<html><head></head>" + BODY.replace("Title", "Ti\ufffetle\uffff") + "</html>",
    "xhtml doctype": '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
                     f"<html xmlns='http://www.w3.org/1999/xhtml'><head><title>T</title></head>{BODY}</html>",
    "self-closing html": f"<!DOCTYPE html>\n<html lang='en' />\n<head><title>T</title></head>{BODY}",
    "meta charset ignored": f"<html><head><meta charset='iso-8859-1'><title>Café</title></head>{BODY.replace('One', 'Œne €')}</html>",
    "no html tag": BODY,
    "fragment": "<p>just a paragraph</p>",
    "comments and pis": f"<html><head><?php echo 1 ?></head><!-- hidden -->{BODY}</html>",
}


@pytest.mark.parametrize("name", CASES)
def test_same_tree_as_trafilatura(name):
    text = CASES[name]
    ours, theirs = parse(text), trafilatura.load_html(text)
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert etree.tostring(ours, encoding="unicode") == etree.tostring(theirs, encoding="unicode")


def test_forbidden_characters_are_gone():
    tree = parse(CASES["control characters"])
    assert "\x0b" not in etree.tostring(tree, encoding="unicode") and "Another" in tree.text_content()
