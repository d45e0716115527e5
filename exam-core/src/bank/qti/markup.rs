//! Writing XML: escaping, and an indenting writer that leaves mixed content alone.
//!
//! Block elements go on their own lines; a paragraph with text and interactions is
//! written on one line, so that no whitespace is added to what the candidate reads.

use std::fmt::Write as _;

/// An XML document being written, with the current indentation depth.
pub(super) struct Markup {
    out: String,
    depth: usize,
}

impl Markup {
    /// A document that starts with the XML declaration.
    pub(super) fn new() -> Self {
        Markup {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
            depth: 0,
        }
    }

    /// The document, ending with a newline.
    pub(super) fn finish(mut self) -> String {
        self.out.push('\n');
        self.out
    }

    /// Starts a new line at the current depth.
    pub(super) fn newline(&mut self) {
        self.out.push('\n');
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    /// `<name attrs>` where the writer stands.
    pub(super) fn start(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.tag(name, attrs);
        self.out.push('>');
    }

    /// `</name>` where the writer stands.
    pub(super) fn end(&mut self, name: &str) {
        let _ = write!(self.out, "</{name}>");
    }

    /// `<name attrs/>` where the writer stands.
    pub(super) fn empty_tag(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.tag(name, attrs);
        self.out.push_str("/>");
    }

    /// Escaped character data where the writer stands.
    pub(super) fn text(&mut self, text: &str) {
        escape(text, false, &mut self.out);
    }

    /// A block element on a new line; its content goes one level deeper.
    pub(super) fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.newline();
        self.start(name, attrs);
        self.depth += 1;
    }

    /// Closes the block element opened last, on a new line.
    pub(super) fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.newline();
        self.end(name);
    }

    /// An empty element on a new line.
    pub(super) fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.newline();
        self.empty_tag(name, attrs);
    }

    /// An element holding only text, on a new line.
    pub(super) fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.newline();
        self.start(name, attrs);
        self.text(text);
        self.end(name);
    }

    fn tag(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attrs {
            let _ = write!(self.out, " {key}=\"");
            escape(value, true, &mut self.out);
            self.out.push('"');
        }
    }
}

/// Appends `s` escaped for character data, or for a double-quoted attribute value.
///
/// Carriage returns and control characters become character references, so that a
/// reader's end-of-line handling cannot change them; in attributes, tabs and newlines
/// do too, so that attribute-value normalisation keeps them.
pub(super) fn escape(s: &str, attribute: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\n' | '\t' if !attribute => out.push(c),
            c if c.is_control() => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        let mut out = String::new();
        escape("a&b<c>d\"e'f\ng\r\th", false, &mut out);
        assert_eq!(out, "a&amp;b&lt;c&gt;d\"e'f\ng&#13;\th");
        out.clear();
        escape("a&b<c>d\"e'f\ng\r\th", true, &mut out);
        assert_eq!(out, "a&amp;b&lt;c&gt;d&quot;e&apos;f&#10;g&#13;&#9;h");
    }

    #[test]
    fn indents_blocks_but_not_mixed_content() {
        let mut m = Markup::new();
        m.open("a", &[("x", "1")]);
        m.newline();
        m.start("p", &[]);
        m.text("one ");
        m.empty_tag("gap", &[]);
        m.end("p");
        m.leaf("b", &[], "t");
        m.close("a");
        assert_eq!(
            m.finish(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a x=\"1\">\n  <p>one <gap/></p>\n  <b>t</b>\n</a>\n"
        );
    }
}
