//! A small streaming walk over an XML document, shared by the UN and EU loaders.
//!
//! What it is for: reporting each element's open (with attributes) and close (with its own
//! text) together with the path of element names leading to it, and turning malformed or
//! truncated XML into an error with a line number. What it is not for: building a tree of the
//! whole file (the lists are big and a loader needs only a few fields at a time).

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::line_of_offset;
use crate::error::{Error, Location, Result};

/// One step of the walk.
pub enum Step<'w> {
    /// An element opened; `path` ends with its name.
    Open {
        path: &'w [String],
        attrs: &'w [(String, String)],
    },
    /// An element closed; `text` is its own text content, trimmed.
    Close { path: &'w [String], text: &'w str },
}

/// Walks `text` (the whole document), calling `each` for every element open and close, with
/// the line of the element for error messages.
pub fn walk(origin: &str, text: &str, mut each: impl FnMut(Step, u64) -> Result<()>) -> Result<()> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().expand_empty_elements = true;
    let mut path: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut attrs: Vec<(String, String)> = Vec::new();
    let at = |pos: u64| Location::new(origin).line(line_of_offset(text, pos as usize));
    // Lines are counted incrementally: recounting from the start at every element would make
    // the walk quadratic in the file size.
    let (mut counted_to, mut current_line) = (0usize, 1u64);
    loop {
        let event = reader
            .read_event()
            .map_err(|e| Error::data(at(reader.error_position()), format!("malformed XML: {e}")))?;
        let pos = (reader.buffer_position() as usize).min(text.len());
        if pos > counted_to {
            current_line += text.as_bytes()[counted_to..pos]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            counted_to = pos;
        }
        let line = || current_line;
        match event {
            Event::Start(start) => {
                path.push(start.local_name().as_ref().to_string());
                texts.push(String::new());
                read_attributes(&start, &mut attrs)
                    .map_err(|m| Error::data(at(reader.buffer_position()), m))?;
                each(
                    Step::Open {
                        path: &path,
                        attrs: &attrs,
                    },
                    line(),
                )?;
            }
            Event::End(_) => {
                let own = texts.pop().unwrap_or_default();
                each(
                    Step::Close {
                        path: &path,
                        text: own.trim(),
                    },
                    line(),
                )?;
                path.pop();
            }
            Event::Text(t) => push_text(&mut texts, &t.xml10_content()),
            Event::CData(t) => push_text(&mut texts, &t.xml10_content()),
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => predefined_entity(&r.xml10_content()),
                };
                let ch = ch.ok_or_else(|| {
                    Error::data(at(reader.buffer_position()), "unknown XML entity reference")
                })?;
                push_text(&mut texts, ch.encode_utf8(&mut [0; 4]));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = path.last() {
        return Err(Error::data(
            at(text.len() as u64),
            format!("the file ends inside <{open}>: it is truncated"),
        ));
    }
    Ok(())
}

fn push_text(texts: &mut [String], s: &str) {
    if let Some(t) = texts.last_mut() {
        t.push_str(s);
    }
}

fn predefined_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

fn read_attributes(start: &BytesStart, out: &mut Vec<(String, String)>) -> Result<(), String> {
    out.clear();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("malformed XML attribute: {e}"))?;
        let value: Cow<str> = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("malformed XML attribute: {e}"))?;
        let key = attr.key.local_name().as_ref().to_string();
        out.push((key, value.into_owned()));
    }
    Ok(())
}

/// The value of attribute `name`, if present.
pub fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closes(xml: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        walk("t.xml", xml, |step, _| {
            if let Step::Close { path, text } = step {
                out.push(format!("{}={text}", path.join("/")));
            }
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn texts_entities_and_paths() {
        let got = closes("<a><b>x &amp; &#65;</b><c/></a>").unwrap();
        assert_eq!(got, vec!["a/b=x & A", "a/c=", "a="]);
    }

    #[test]
    fn truncated_and_malformed_are_errors() {
        let e = closes("<a>\n<b>x</b>\n<c>").unwrap_err().to_string();
        assert!(e.contains("t.xml:3") && e.contains("truncated"), "{e}");
        let e = closes("<a>\n<b>x</c></a>").unwrap_err().to_string();
        assert!(e.contains("t.xml:2"), "{e}");
    }
}
