//! Reading XML into a small tree, keeping every character of text exactly.
//!
//! Element names lose their namespace prefix (`qti:qti-gap` is `qti-gap`); attribute
//! names keep theirs (`xml:lang`). Text, character references and CDATA sections that
//! follow each other become one text node.

use quick_xml::Reader;
use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::{BytesStart, Event};

/// An element with its attributes and children.
#[derive(Debug)]
pub(super) struct Element {
    /// The local name.
    pub(super) name: String,
    attrs: Vec<(String, String)>,
    /// Child elements and text, in document order.
    pub(super) children: Vec<Node>,
    /// The line the start tag is on, from 1.
    pub(super) line: usize,
}

/// A child of an element.
#[derive(Debug)]
pub(super) enum Node {
    /// A child element.
    Element(Element),
    /// Character data, unescaped.
    Text(String),
}

impl Element {
    /// The value of an attribute.
    pub(super) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// True when the `class` attribute lists `class`.
    pub(super) fn has_class(&self, class: &str) -> bool {
        self.attr("class")
            .is_some_and(|c| c.split_whitespace().any(|c| c == class))
    }

    /// The child elements.
    pub(super) fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The child elements with that name.
    pub(super) fn children_named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Element> {
        self.elements().filter(move |e| e.name == name)
    }

    /// The first child element with that name.
    pub(super) fn child(&self, name: &str) -> Option<&Element> {
        self.children_named(name).next()
    }

    /// The first descendant (depth first, in document order) that satisfies `pred`.
    pub(super) fn find<F: Fn(&Element) -> bool>(&self, pred: &F) -> Option<&Element> {
        self.elements()
            .find_map(|e| if pred(e) { Some(e) } else { e.find(pred) })
    }

    /// Every descendant with that name, in document order.
    pub(super) fn descendants_named<'a>(&'a self, name: &str, out: &mut Vec<&'a Element>) {
        for e in self.elements() {
            if e.name == name {
                out.push(e);
            }
            e.descendants_named(name, out);
        }
    }

    /// The text of the element and its descendants, concatenated.
    pub(super) fn text(&self) -> String {
        let mut out = String::new();
        self.collect_text(&mut out);
        out
    }

    fn collect_text(&self, out: &mut String) {
        for n in &self.children {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) => e.collect_text(out),
            }
        }
    }

    fn push_text(&mut self, text: &str) {
        if let Some(Node::Text(t)) = self.children.last_mut() {
            t.push_str(text);
        } else {
            self.children.push(Node::Text(text.to_owned()));
        }
    }
}

/// Tracks the line of a byte offset, moving forward only.
struct Lines<'a> {
    xml: &'a str,
    pos: usize,
    line: usize,
}

impl Lines<'_> {
    fn at(&mut self, offset: u64) -> usize {
        let offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.xml.len());
        if offset >= self.pos {
            self.line += self.xml.as_bytes()[self.pos..offset]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.pos = offset;
            self.line
        } else {
            1 + self.xml.as_bytes()[..offset]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
        }
    }
}

/// Parses a whole document into its root element; the error names the line.
pub(super) fn parse(xml: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(xml);
    let mut lines = Lines {
        xml,
        pos: 0,
        line: 1,
    };
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let before = reader.buffer_position();
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let line = lines.at(reader.error_position());
                return Err(format!("line {line}: {e}"));
            }
        };
        let line = lines.at(before);
        let fail = |message: String| Err(format!("line {line}: {message}"));
        match event {
            Event::Start(start) => stack.push(element(&start, &reader, line)?),
            Event::Empty(start) => {
                let e = element(&start, &reader, line)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(e)),
                    None if root.is_none() => root = Some(e),
                    None => return fail("a second root element".into()),
                }
            }
            Event::End(_) => {
                // quick-xml has checked that the name matches the open element.
                let Some(e) = stack.pop() else {
                    return fail("an end tag with no start tag".into());
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(e)),
                    None if root.is_none() => root = Some(e),
                    None => return fail("a second root element".into()),
                }
            }
            Event::Text(t) => {
                let text = t.xml10_content().map_err(|e| format!("line {line}: {e}"))?;
                append_text(&mut stack, &text, line)?;
            }
            Event::CData(t) => {
                let text = t.decode().map_err(|e| format!("line {line}: {e}"))?;
                append_text(&mut stack, &text, line)?;
            }
            Event::GeneralRef(r) => {
                let text = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = r.decode().map_err(|e| format!("line {line}: {e}"))?;
                        match resolve_xml_entity(&name) {
                            Some(s) => s.to_owned(),
                            None => return fail(format!("unknown entity &{name};")),
                        }
                    }
                    Err(e) => return fail(e.to_string()),
                };
                append_text(&mut stack, &text, line)?;
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!(
            "the file ends inside <{}> (opened on line {})",
            open.name, open.line
        ));
    }
    root.ok_or_else(|| "no root element".to_owned())
}

fn element(start: &BytesStart<'_>, reader: &Reader<&[u8]>, line: usize) -> Result<Element, String> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("line {line}: {e}"))?;
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        let value = attr
            .decode_and_unescape_value(reader.decoder())
            .map_err(|e| format!("line {line}: attribute {key}: {e}"))?;
        attrs.push((key, value.into_owned()));
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
        line,
    })
}

fn append_text(stack: &mut [Element], text: &str, line: usize) -> Result<(), String> {
    match stack.last_mut() {
        Some(e) => {
            e.push_text(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err(format!("line {line}: text outside the root element")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_text_exactly() {
        let root = parse("<?xml version=\"1.0\"?>\n<a x=\"1&amp;&#10;2\"><p> one &lt;&#13;\r\ntwo<![CDATA[<&>]]> </p>\n<b/></a>").unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.attr("x"), Some("1&\n2"));
        let p = root.child("p").unwrap();
        assert_eq!(p.text(), " one <\r\ntwo<&> ");
        assert_eq!(p.children.len(), 1);
        assert_eq!(root.child("b").unwrap().line, 4);
    }

    #[test]
    fn reports_the_line_of_an_error() {
        let err = parse("<a>\n<b>\n</c></a>").unwrap_err();
        assert!(err.starts_with("line 3"), "{err}");
        assert!(parse("<a>\n<b>").unwrap_err().contains("ends inside <b>"));
        assert!(
            parse("<a>&nope;</a>")
                .unwrap_err()
                .contains("unknown entity")
        );
        assert!(parse("").is_err());
    }
}
