//! A small RFC 4180 reader for one record per line (no line breaks inside fields): enough for
//! citizen lists, and bounded by the line limit of the caller.

use anyhow::{bail, Result};
use qrid_credential::CitizenInput;

/// Splits one CSV line into fields; quoted fields may hold commas and doubled quotes.
pub fn split(line: &str) -> Result<Vec<String>> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, '"') if at_start => {
                quoted = true;
                at_start = false;
            }
            (true, '"') if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            (true, '"') => {
                quoted = false;
                if !matches!(chars.peek(), None | Some(',')) {
                    bail!("text after a closing quote");
                }
            }
            (false, ',') => {
                fields.push(std::mem::take(&mut cur));
                at_start = true;
            }
            (_, c) => {
                cur.push(c);
                at_start = false;
            }
        }
    }
    if quoted {
        bail!("unterminated quoted field");
    }
    fields.push(cur);
    Ok(fields)
}

/// One CSV field as [`split`] reads it back: quoted (quotes doubled) when it holds a comma, a
/// quote or a line break, as is otherwise.
pub fn quote(field: &str) -> std::borrow::Cow<'_, str> {
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\"")).into()
    } else {
        field.into()
    }
}

/// Maps a CSV record onto the claims input by the header's column names (the JSON field
/// names); empty cells are absent claims; unknown columns are refused.
pub fn to_input(header: &[String], line: &str) -> Result<CitizenInput> {
    let fields = split(line)?;
    if fields.len() != header.len() {
        bail!(
            "{} fields where the header has {}",
            fields.len(),
            header.len()
        );
    }
    let mut map = serde_json::Map::new();
    for (name, value) in header.iter().zip(fields) {
        if !value.is_empty() {
            map.insert(name.trim().to_owned(), serde_json::Value::String(value));
        }
    }
    Ok(CitizenInput::from_json(
        &serde_json::Value::Object(map).to_string(),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_round_trips_through_split() {
        for field in ["plain", "a,b", "say \"hi\"", "", "\"", ",\","] {
            let line = format!("{},{}", quote(field), quote("x"));
            assert_eq!(
                split(&line).unwrap(),
                vec![field.to_owned(), "x".to_owned()]
            );
        }
    }

    #[test]
    fn quoted_fields_and_errors() {
        assert_eq!(
            split(r#"a,"b, c","d ""e""",,"#).unwrap(),
            ["a", "b, c", "d \"e\"", "", ""]
        );
        assert!(split(r#""open"#).is_err());
        assert!(split(r#""a"b,c"#).is_err());
        let h: Vec<String> = ["id_number", "full_name", "date_of_birth", "sex"]
            .map(String::from)
            .to_vec();
        let i = to_input(&h, r#"001099012345,"Nguyễn Văn A, Jr",1990-01-02,"#).unwrap();
        assert_eq!(i.full_name.as_deref(), Some("Nguyễn Văn A, Jr"));
        assert!(i.sex.is_none());
        assert!(to_input(&h, "1,2").is_err());
        let bad: Vec<String> = ["id_number", "nmae"].map(String::from).to_vec();
        assert!(to_input(&bad, "001099012345,x").is_err());
    }
}
