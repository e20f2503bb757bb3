//! Character encodings of ERP exports: detection and streaming decoding to UTF-8.
//!
//! ERP systems export UTF-8 (with or without a byte-order mark), UTF-16 with a BOM (Excel's
//! "Unicode text"), Windows-1251 (Russian ERPs) and Windows-1252 (Western ones). [`DecodeReader`]
//! wraps any reader and yields UTF-8, decoding as it goes, so memory does not grow with the
//! input and a pipeline is never held up waiting for more input than one `read` returned.
//!
//! Detection: a BOM decides; otherwise bytes pass through as UTF-8 until the first non-ASCII byte
//! (every supported single-byte encoding agrees with ASCII), and the buffered text from there (up
//! to 64 KiB) is judged once: mostly valid UTF-8 stays UTF-8, anything else is Windows-1251 or
//! Windows-1252 by [`guess_single_byte`]. UTF-8 is passed through undecoded, so invalid bytes in a UTF-8 input
//! still reach the CSV reader and become error rows there. Not here: CSV or JSON syntax (`input`).

use std::io::{self, Read};

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, WINDOWS_1251, WINDOWS_1252};

use crate::error::{Error, Result};

/// An input encoding, forced with `--encoding` or detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputEncoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    Windows1251,
    Windows1252,
}

impl InputEncoding {
    /// Parses the names `--encoding` accepts (and common aliases), case-insensitively.
    pub fn parse(s: &str) -> Result<InputEncoding> {
        let key: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        Ok(match key.as_str() {
            "utf8" => InputEncoding::Utf8,
            "utf16le" => InputEncoding::Utf16Le,
            "utf16be" => InputEncoding::Utf16Be,
            "windows1251" | "cp1251" => InputEncoding::Windows1251,
            "windows1252" | "cp1252" | "latin1" | "iso88591" => InputEncoding::Windows1252,
            _ => {
                return Err(Error::Usage(format!(
                "unknown encoding `{s}`: expected utf-8, utf-16le, utf-16be, windows-1251 or windows-1252"
            )))
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InputEncoding::Utf8 => "utf-8",
            InputEncoding::Utf16Le => "utf-16le",
            InputEncoding::Utf16Be => "utf-16be",
            InputEncoding::Windows1251 => "windows-1251",
            InputEncoding::Windows1252 => "windows-1252",
        }
    }

    fn encoding(self) -> Option<&'static Encoding> {
        match self {
            InputEncoding::Utf8 => None,
            InputEncoding::Utf16Le => Some(UTF_16LE),
            InputEncoding::Utf16Be => Some(UTF_16BE),
            InputEncoding::Windows1251 => Some(WINDOWS_1251),
            InputEncoding::Windows1252 => Some(WINDOWS_1252),
        }
    }
}

/// Whether a byte is a letter in the upper half of both Windows-1251 and -1252 (Cyrillic А–я,
/// Ёё in 1251; accented Latin letters in 1252).
fn high_letter(b: u8) -> bool {
    b >= 0xC0 || b == 0xA8 || b == 0xB8
}

/// Windows-1251 or Windows-1252 for text that is not UTF-8 (see [`utf8_votes`]). Words are voted on: a Cyrillic word
/// in 1251 is made (almost) entirely of upper-half bytes, while an accented Latin word in 1252 is
/// mostly ASCII letters with an accent here and there (`Müller`, `Société`). Ties go to 1252.
pub fn guess_single_byte(sample: &[u8]) -> InputEncoding {
    let (mut cyrillic, mut latin) = (0usize, 0usize);
    for word in sample.split(|&b| !(b.is_ascii_alphabetic() || high_letter(b))) {
        let high = word.iter().filter(|&&b| high_letter(b)).count();
        if high == 0 {
            continue;
        }
        if high > word.len() - high {
            cyrillic += 1;
        } else {
            latin += 1;
        }
    }
    if cyrillic > latin {
        InputEncoding::Windows1251
    } else {
        InputEncoding::Windows1252
    }
}

/// Counts the non-ASCII characters that are valid UTF-8 and the bytes that are not, in `sample`
/// (a character cut off at the end counts as neither). Windows-1251 and -1252 text almost never
/// forms valid multi-byte UTF-8 sequences, so the two counts tell the encodings apart.
pub fn utf8_votes(sample: &[u8]) -> (usize, usize) {
    let non_ascii = |b: &[u8]| {
        std::str::from_utf8(b)
            .map(|s| s.chars().filter(|c| !c.is_ascii()).count())
            .unwrap_or(0)
    };
    let (mut good, mut bad) = (0, 0);
    let mut rest = sample;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => return (good + s.chars().filter(|c| !c.is_ascii()).count(), bad),
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                good += non_ascii(valid);
                match e.error_len() {
                    Some(n) => {
                        bad += 1;
                        rest = &after[n..];
                    }
                    None => return (good, bad),
                }
            }
        }
    }
}

/// The encoding a byte-order mark announces, and the BOM's length.
fn sniff_bom(head: &[u8]) -> Option<(InputEncoding, usize)> {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        Some((InputEncoding::Utf8, 3))
    } else if head.starts_with(&[0xFF, 0xFE]) {
        Some((InputEncoding::Utf16Le, 2))
    } else if head.starts_with(&[0xFE, 0xFF]) {
        Some((InputEncoding::Utf16Be, 2))
    } else {
        None
    }
}

enum Mode {
    /// Nothing decided yet: the BOM has not been looked for.
    Start,
    /// No BOM, only ASCII so far: passed through until the first non-ASCII byte.
    AsciiSoFar,
    /// UTF-8, passed through as bytes.
    Utf8,
    Decoding(encoding_rs::Decoder),
}

/// Bytes read from the inner reader per fill; also the sample the 1251/1252 guess sees.
const FILL: usize = 64 * 1024;

/// A reader that yields UTF-8 from input in any supported encoding (see the module note).
pub struct DecodeReader<R: Read> {
    inner: R,
    forced: Option<InputEncoding>,
    mode: Mode,
    detected: Option<InputEncoding>,
    /// Raw bytes read but not yet consumed.
    raw: Vec<u8>,
    /// Output ready to hand out: `out[pos..]`.
    out: Vec<u8>,
    pos: usize,
    /// The inner reader is at its end.
    eof: bool,
    /// Everything has been handed out.
    finished: bool,
}

impl<R: Read> DecodeReader<R> {
    /// `forced` skips detection (a BOM matching it is still removed).
    pub fn new(inner: R, forced: Option<InputEncoding>) -> DecodeReader<R> {
        DecodeReader {
            inner,
            forced,
            mode: Mode::Start,
            detected: forced,
            raw: Vec::new(),
            out: Vec::new(),
            pos: 0,
            eof: false,
            finished: false,
        }
    }

    /// The encoding in use: forced, from the BOM, or detected; None while only ASCII was seen.
    pub fn encoding(&self) -> Option<InputEncoding> {
        self.detected
    }

    /// Reads once from the inner reader into `raw`; false at the end of input.
    fn fill(&mut self) -> io::Result<bool> {
        let start = self.raw.len();
        self.raw.resize(start + FILL, 0);
        let n = loop {
            match self.inner.read(&mut self.raw[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.raw.truncate(start);
                    return Err(e);
                }
            }
        };
        self.raw.truncate(start + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    fn set_mode(&mut self, enc: InputEncoding) {
        self.detected = Some(enc);
        self.mode = match enc.encoding() {
            None => Mode::Utf8,
            Some(e) => Mode::Decoding(e.new_decoder_without_bom_handling()),
        };
    }

    /// Turns some of `raw` into `out`, reading more input only when nothing could be produced
    /// (so a slow pipe gets out what it has sent). Sets `finished` at the end of the input.
    fn produce(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        loop {
            if self.raw.is_empty() {
                if self.eof {
                    if let Mode::Decoding(decoder) = &mut self.mode {
                        // The decoder may hold half a character: flush it (as U+FFFD).
                        self.out.resize(16, 0);
                        let (_, _, written, _) = decoder.decode_to_utf8(&[], &mut self.out, true);
                        self.out.truncate(written);
                    }
                    self.finished = true;
                    return Ok(());
                }
                self.fill()?;
                continue;
            }
            match &mut self.mode {
                Mode::Start => {
                    // A BOM is at most 3 bytes; a short first read must not hide one.
                    while self.raw.len() < 3 && !self.eof {
                        self.fill()?;
                    }
                    match (sniff_bom(&self.raw), self.forced) {
                        (Some((enc, len)), forced) if forced.is_none_or(|f| f == enc) => {
                            self.raw.drain(..len);
                            self.set_mode(enc);
                        }
                        (_, Some(forced)) => self.set_mode(forced),
                        (_, None) => self.mode = Mode::AsciiSoFar,
                    }
                }
                Mode::AsciiSoFar => {
                    let Some(first) = self.raw.iter().position(|b| !b.is_ascii()) else {
                        std::mem::swap(&mut self.out, &mut self.raw);
                        return Ok(());
                    };
                    let sample = &self.raw[first..];
                    let (good, bad) = utf8_votes(sample);
                    if good == 0 && bad == 0 && !self.eof {
                        // Only the start of one character so far: read on before judging.
                        self.fill()?;
                        continue;
                    }
                    // Mostly UTF-8 is UTF-8: a stray bad byte must not turn every real UTF-8
                    // name into mojibake; it becomes an error row downstream instead.
                    let utf8 = good * 4 > bad;
                    let enc = if utf8 {
                        InputEncoding::Utf8
                    } else {
                        guess_single_byte(sample)
                    };
                    self.set_mode(enc);
                }
                Mode::Utf8 => {
                    std::mem::swap(&mut self.out, &mut self.raw);
                    return Ok(());
                }
                Mode::Decoding(decoder) => {
                    let need = decoder
                        .max_utf8_buffer_length(self.raw.len())
                        .unwrap_or(self.raw.len() * 3 + 16);
                    self.out.resize(need, 0);
                    let (_, read, written, _) =
                        decoder.decode_to_utf8(&self.raw, &mut self.out, false);
                    self.raw.drain(..read);
                    self.out.truncate(written);
                    if !self.out.is_empty() {
                        return Ok(());
                    }
                }
            }
        }
    }
}

impl<R: Read> Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.out.len() {
            if self.finished {
                return Ok(0);
            }
            self.produce()?;
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], forced: Option<InputEncoding>) -> (String, Option<InputEncoding>) {
        let mut r = DecodeReader::new(bytes, forced);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        (String::from_utf8(out).unwrap(), r.encoding())
    }

    /// A reader that hands out one byte per call, as a slow pipe might.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.is_empty()) {
                (Some((b, rest)), false) => {
                    buf[0] = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn boms_decide() {
        // encoding_rs only decodes UTF-16 (WHATWG): build it by hand.
        let text = "Consignee\nООО «Робин Трейд»\n";
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(
            decode(&le, None),
            (text.into(), Some(InputEncoding::Utf16Le))
        );
        assert_eq!(
            decode(&be, None),
            (text.into(), Some(InputEncoding::Utf16Be))
        );
        let bom8: Vec<u8> = [0xEF, 0xBB, 0xBF].into_iter().chain(text.bytes()).collect();
        assert_eq!(
            decode(&bom8, None),
            (text.into(), Some(InputEncoding::Utf8))
        );
    }

    #[test]
    fn single_byte_encodings_are_told_apart() {
        let ru = "Consignee\nООО «Робин Трейд»\nАО Планар\n";
        let (b1251, _, _) = WINDOWS_1251.encode(ru);
        assert_eq!(
            decode(&b1251, None),
            (ru.into(), Some(InputEncoding::Windows1251))
        );
        let de = "Consignee\nMüller GmbH\nSociété Générale\n";
        let (b1252, _, _) = WINDOWS_1252.encode(de);
        assert_eq!(
            decode(&b1252, None),
            (de.into(), Some(InputEncoding::Windows1252))
        );
        assert_eq!(
            decode(ru.as_bytes(), None),
            (ru.into(), Some(InputEncoding::Utf8))
        );
        assert_eq!(decode(b"a,b\n1,2\n", None), ("a,b\n1,2\n".into(), None));
    }

    #[test]
    fn a_stray_bad_byte_does_not_turn_utf8_into_mojibake() {
        let mut bytes = "Consignee\nООО Ромашка\n".as_bytes().to_vec();
        bytes.extend_from_slice(b"bad \xff row\n");
        let mut r = DecodeReader::new(&bytes[..], None);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, bytes, "passed through for the CSV reader to flag");
        assert_eq!(r.encoding(), Some(InputEncoding::Utf8));
        assert_eq!(utf8_votes("é".as_bytes()), (1, 0));
        assert_eq!(utf8_votes(b"\xe9t\xe9 "), (0, 2));
        assert_eq!(utf8_votes(&"é".as_bytes()[..1]), (0, 0));
    }

    #[test]
    fn slow_input_decodes_the_same() {
        let ru = "Consignee\nООО «Робин Трейд»\n";
        let (b1251, _, _) = WINDOWS_1251.encode(ru);
        let mut r = DecodeReader::new(Trickle(&b1251), None);
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        assert_eq!(out, ru);
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(ru.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let mut r = DecodeReader::new(Trickle(&utf16), None);
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        assert_eq!(out, ru);
        let mut r = DecodeReader::new(Trickle(ru.as_bytes()), None);
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        assert_eq!(out, ru);
    }

    #[test]
    fn forced_encodings_win_and_utf8_keeps_invalid_bytes() {
        let (b1251, _, _) = WINDOWS_1251.encode("Робин");
        let (s, _) = decode(&b1251, Some(InputEncoding::Windows1252));
        assert_ne!(s, "Робин");
        let mut r = DecodeReader::new(&b"ok \xff\n"[..], Some(InputEncoding::Utf8));
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"ok \xff\n");
        assert!(InputEncoding::parse("Windows-1251").is_ok());
        assert!(InputEncoding::parse("koi8").is_err());
    }
}
