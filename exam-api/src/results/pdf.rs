//! A small PDF writer for the attestation of results: one A4 page of text lines in
//! Helvetica (WinAnsi encoding, so French accents print), no dependency.

/// A line of the page: text, size in points, bold or not.
#[derive(Clone, Debug)]
pub struct Line {
    /// The text.
    pub text: String,
    /// Font size in points.
    pub size: u32,
    /// Helvetica-Bold instead of Helvetica.
    pub bold: bool,
}

/// The byte of a character in WinAnsi (cp1252), `?` when it has none.
fn winansi(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '€' => 0x80,
        '‚' => 0x82,
        '„' => 0x84,
        '…' => 0x85,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        'œ' => 0x9c,
        'Œ' => 0x8c,
        _ => b'?',
    }
}

fn string(text: &str) -> Vec<u8> {
    let mut out = vec![b'('];
    for c in text.chars() {
        let b = winansi(c);
        if matches!(b, b'(' | b')' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b')');
    out
}

/// A one-page PDF with the lines top to bottom.
pub fn page(title: &str, lines: &[Line]) -> Vec<u8> {
    let mut content = Vec::new();
    let mut y = 800i64;
    for l in lines {
        y -= i64::from(l.size) + 8;
        let font = if l.bold { "F2" } else { "F1" };
        content.extend_from_slice(format!("BT /{font} {} Tf 56 {y} Td ", l.size).as_bytes());
        content.extend(string(&l.text));
        content.extend_from_slice(b" Tj ET\n");
    }
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>".to_vec(),
        [format!("<< /Length {} >>\nstream\n", content.len()).as_bytes(), &content, b"endstream"].concat(),
        [b"<< /Title ".as_slice(), &string(title), b" /Producer (langcert) >>"].concat(),
    ];
    let mut pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(o);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info {} 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1,
            objects.len()
        )
        .as_bytes(),
    );
    pdf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_pdf_with_its_cross_reference_table() {
        let pdf = page(
            "Attestation",
            &[Line {
                text: "Résultats (écrit) — B2 \\ fin".into(),
                size: 12,
                bold: false,
            }],
        );
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let text = String::from_utf8_lossy(&pdf);
        let startxref: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(pdf[startxref..].starts_with(b"xref"));
        // Each offset of the table points at its object.
        let table = String::from_utf8(pdf[startxref..].to_vec()).unwrap();
        for (i, line) in table.lines().skip(3).take(7).enumerate() {
            let off: usize = line[..10].parse().unwrap();
            assert!(pdf[off..].starts_with(format!("{} 0 obj", i + 1).as_bytes()));
        }
        assert!(pdf.windows(2).any(|w| w == [0xe9, b's']), "é in WinAnsi");
        assert!(
            pdf.windows(3).any(|w| w == b"\\(\xe9"),
            "parentheses escaped"
        );
    }
}
