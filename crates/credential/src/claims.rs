//! The citizen's identity claims: validated types, the JSON input a person writes by hand, and
//! the mapping onto MOSIP Claim 169 keys.

use crate::date::Date;
use crate::error::ClaimError;
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use unicode_normalization::UnicodeNormalization;

/// Longest full name accepted, in Unicode scalar values after NFC.
pub const FULL_NAME_MAX: usize = 80;
/// Longest place of origin or residence accepted, in Unicode scalar values after NFC.
pub const PLACE_MAX: usize = 120;

/// A national identity number: exactly 12 ASCII digits, leading zeros kept.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

impl IdNumber {
    /// The 12 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for IdNumber {
    type Err = ClaimError;
    fn from_str(s: &str) -> Result<Self, ClaimError> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(IdNumber(s.to_owned()))
        } else {
            Err(ClaimError::Invalid {
                field: "id_number",
                problem: "must be exactly 12 digits",
            })
        }
    }
}

// Debug must not print the number: errors and logs carry a credential id, never an id number.
impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdNumber(..)")
    }
}

/// Sex as printed on the card: M, F or X; Claim 169 gender 1, 2, 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// M, Claim 169 gender 1.
    Male,
    /// F, Claim 169 gender 2.
    Female,
    /// X, Claim 169 gender 3 ("others").
    Other,
}

impl Sex {
    /// The Claim 169 gender code.
    pub fn claim169_code(self) -> i64 {
        match self {
            Sex::Male => 1,
            Sex::Female => 2,
            Sex::Other => 3,
        }
    }
    /// The sex for a Claim 169 gender code.
    pub fn from_claim169_code(code: i64) -> Option<Sex> {
        match code {
            1 => Some(Sex::Male),
            2 => Some(Sex::Female),
            3 => Some(Sex::Other),
            _ => None,
        }
    }
    /// M, F or X.
    pub fn letter(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
            Sex::Other => "X",
        }
    }
}

impl FromStr for Sex {
    type Err = ClaimError;
    fn from_str(s: &str) -> Result<Self, ClaimError> {
        match s {
            "M" => Ok(Sex::Male),
            "F" => Ok(Sex::Female),
            "X" => Ok(Sex::Other),
            _ => Err(ClaimError::Invalid {
                field: "sex",
                problem: "must be M, F or X",
            }),
        }
    }
}

/// An officially assigned ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CountryCode([u8; 2]);

const ISO_3166_ALPHA2: &str =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH \
BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY \
CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP \
GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM \
KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR \
MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS \
PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD \
TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA \
ZM ZW";

/// One bit per letter pair AA..ZZ, set for the codes above: built at compile time, so that
/// checking a code (on every credential decoded) is a lookup, not a scan of the list.
const ASSIGNED: [u64; 11] = {
    let b = ISO_3166_ALPHA2.as_bytes();
    let mut bits = [0u64; 11];
    let mut i = 0;
    while i + 1 < b.len() {
        let n = (b[i] - b'A') as usize * 26 + (b[i + 1] - b'A') as usize;
        bits[n / 64] |= 1 << (n % 64);
        i += 3;
    }
    bits
};

fn assigned(b: &[u8]) -> bool {
    if b.len() != 2 || !b.iter().all(u8::is_ascii_uppercase) {
        return false;
    }
    let n = (b[0] - b'A') as usize * 26 + (b[1] - b'A') as usize;
    ASSIGNED[n / 64] & (1 << (n % 64)) != 0
}

impl CountryCode {
    /// The two letters.
    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl FromStr for CountryCode {
    type Err = ClaimError;
    fn from_str(s: &str) -> Result<Self, ClaimError> {
        let b = s.as_bytes();
        if assigned(b) {
            Ok(CountryCode([b[0], b[1]]))
        } else {
            Err(ClaimError::Invalid {
                field: "nationality",
                problem: "must be an assigned ISO 3166-1 alpha-2 code in upper case",
            })
        }
    }
}

/// Text normalised to NFC, trimmed, without control or bidirectional-override characters, and
/// within a length limit. Constructed only through [`Text::new`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Text(String);

impl Text {
    /// Normalises and checks `raw` for `field`. Line breaks are allowed only when `multiline`
    /// (Claim 169 separates address lines with `\n`).
    pub fn new(
        field: &'static str,
        raw: &str,
        max: usize,
        multiline: bool,
    ) -> Result<Text, ClaimError> {
        // Refuse absurd input before normalising it: NFC never shrinks text below a third.
        if raw.len() > max * 3 * 4 {
            return Err(ClaimError::TooLong { field, max });
        }
        let trimmed = raw.trim();
        // Most text arrives in NFC already; the quick check saves the decompose-recompose pass
        // that dominates decoding a credential's claims.
        let nfc: String = match unicode_normalization::is_nfc_quick(trimmed.chars()) {
            unicode_normalization::IsNormalized::Yes => trimmed.to_owned(),
            _ => trimmed.nfc().collect(),
        };
        if nfc.is_empty() {
            return Err(ClaimError::Invalid {
                field,
                problem: "must not be empty",
            });
        }
        if nfc.chars().count() > max {
            return Err(ClaimError::TooLong { field, max });
        }
        for c in nfc.chars() {
            let forbidden = (c.is_control() && !(multiline && c == '\n'))
                || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}'
                    | '\u{2066}'..='\u{2069}' | '\u{FEFF}');
            if forbidden {
                return Err(ClaimError::Invalid {
                    field,
                    problem: "contains a control or bidirectional-override character",
                });
            }
        }
        Ok(Text(nfc))
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Text({} chars)", self.0.chars().count())
    }
}

/// The identity data of one citizen, every field validated.
///
/// `Debug` shows no personal data, so a `Citizen` can sit inside an error or a log line safely.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Citizen {
    /// The national identity number.
    #[serde(serialize_with = "ser_display")]
    pub id_number: IdNumber,
    /// Full name, NFC.
    #[serde(serialize_with = "ser_display")]
    pub full_name: Text,
    /// Date of birth.
    #[serde(serialize_with = "ser_display")]
    pub date_of_birth: Date,
    /// Sex, if recorded.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_opt")]
    pub sex: Option<Sex>,
    /// Nationality, if recorded.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_opt")]
    pub nationality: Option<CountryCode>,
    /// Place of origin (private-use claim), if recorded.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_opt")]
    pub place_of_origin: Option<Text>,
    /// Place of residence (Claim 169 address), if recorded.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_opt")]
    pub place_of_residence: Option<Text>,
    /// SHA-256 of the enrolment photo (private-use claim), if recorded.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_opt")]
    pub photo_sha256: Option<PhotoDigest>,
    /// The face itself (Claim 169 keys 16 and 17), in a credential of the photo profile: a
    /// thumbnail made at issuance, never part of the enrolment record (not serialised).
    #[serde(skip)]
    pub face: Option<FacePhoto>,
}

/// The longest face photo a credential may carry, in bytes: more cannot fit a QR code that a
/// counter's camera reads (docs/credential-format.md, "The face in the QR").
pub const FACE_PHOTO_MAX: usize = 2048;

/// The image format of a credential's face photo: Claim 169 key 17.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoFormat {
    /// 1
    Jpeg,
    /// 2
    Jpeg2000,
    /// 3
    Avif,
    /// 4
    Webp,
}

impl PhotoFormat {
    /// The Claim 169 code.
    pub fn code(self) -> i64 {
        match self {
            PhotoFormat::Jpeg => 1,
            PhotoFormat::Jpeg2000 => 2,
            PhotoFormat::Avif => 3,
            PhotoFormat::Webp => 4,
        }
    }

    /// The format of a Claim 169 code; `None` for a code Claim 169 does not define.
    pub fn from_code(code: i64) -> Option<PhotoFormat> {
        Some(match code {
            1 => PhotoFormat::Jpeg,
            2 => PhotoFormat::Jpeg2000,
            3 => PhotoFormat::Avif,
            4 => PhotoFormat::Webp,
            _ => return None,
        })
    }

    /// The media type.
    pub fn media_type(self) -> &'static str {
        match self {
            PhotoFormat::Jpeg => "image/jpeg",
            PhotoFormat::Jpeg2000 => "image/jp2",
            PhotoFormat::Avif => "image/avif",
            PhotoFormat::Webp => "image/webp",
        }
    }
}

/// A face photo carried in a credential: Claim 169 key 16 (the image bytes, at most
/// [`FACE_PHOTO_MAX`]) and key 17 (their format, optional in Claim 169).
#[derive(Clone, PartialEq, Eq)]
pub struct FacePhoto {
    /// Key 17.
    pub format: Option<PhotoFormat>,
    /// Key 16.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for FacePhoto {
    // A face is personal data: debug output shows its format and size only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FacePhoto({:?}, {} B)", self.format, self.bytes.len())
    }
}

impl fmt::Debug for Citizen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Citizen { .. }")
    }
}

/// The SHA-256 digest of the citizen's enrolment photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhotoDigest(pub [u8; 32]);

impl FromStr for PhotoDigest {
    type Err = ClaimError;
    fn from_str(s: &str) -> Result<Self, ClaimError> {
        let mut out = [0u8; 32];
        match hex::decode_to_slice(s, &mut out) {
            Ok(()) => Ok(PhotoDigest(out)),
            Err(_) => Err(ClaimError::Invalid {
                field: "photo_sha256",
                problem: "must be 64 hexadecimal characters",
            }),
        }
    }
}

impl fmt::Display for PhotoDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

macro_rules! display_via_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    )*};
}
display_via_as_str!(IdNumber, Text, CountryCode);

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.letter())
    }
}

fn ser_display<T: fmt::Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn ser_opt<T: fmt::Display, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

/// The claims JSON a person writes by hand: one object with these fields, nothing else.
///
/// ```json
/// {"id_number": "001099012345", "full_name": "Nguyễn Thị Minh Khai",
///  "date_of_birth": "1990-01-15", "sex": "F", "nationality": "VN",
///  "place_of_origin": "Xã Đông Hội, Huyện Đông Anh, Hà Nội",
///  "place_of_residence": "Số 12 Phố Nguyễn Trãi, Quận Thanh Xuân, Hà Nội",
///  "photo_sha256": "…64 hex…", "issue_date": "2026-11-23", "expiry_date": "2036-11-22"}
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CitizenInput {
    /// 12 digits.
    pub id_number: Option<String>,
    /// Full name.
    pub full_name: Option<String>,
    /// YYYY-MM-DD.
    pub date_of_birth: Option<String>,
    /// M, F or X.
    pub sex: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub nationality: Option<String>,
    /// Place of origin.
    pub place_of_origin: Option<String>,
    /// Place of residence.
    pub place_of_residence: Option<String>,
    /// 64 hex characters.
    pub photo_sha256: Option<String>,
    /// YYYY-MM-DD; the credential's `iat` is 00:00 UTC of that day. Default: now.
    pub issue_date: Option<String>,
    /// YYYY-MM-DD, the last day of validity; `exp` is 00:00 UTC of the next day.
    pub expiry_date: Option<String>,
}

/// Longest claims JSON object accepted (one line of `qrid issue --claims -`).
pub const MAX_INPUT_JSON: usize = 8 * 1024;

impl CitizenInput {
    /// Parses one JSON object, refusing unknown fields, wrong types and oversize input.
    pub fn from_json(json: &str) -> Result<CitizenInput, ClaimError> {
        if json.len() > MAX_INPUT_JSON {
            return Err(ClaimError::Json(format!(
                "object larger than {MAX_INPUT_JSON} bytes"
            )));
        }
        serde_json::from_str(json).map_err(|e| {
            // serde_json's messages name the field and position, never the value for these types,
            // except for unknown variants; keep only the category and position.
            ClaimError::Json(match e.classify() {
                serde_json::error::Category::Data => sanitize(&e.to_string()),
                _ => format!("malformed JSON at line {} column {}", e.line(), e.column()),
            })
        })
    }

    /// Validates every field and builds the [`Citizen`].
    pub fn to_citizen(&self) -> Result<Citizen, ClaimError> {
        let id_number = self
            .id_number
            .as_deref()
            .ok_or(ClaimError::Missing("id_number"))?
            .parse()?;
        let full_name = Text::new(
            "full_name",
            self.full_name
                .as_deref()
                .ok_or(ClaimError::Missing("full_name"))?,
            FULL_NAME_MAX,
            false,
        )?;
        let date_of_birth = Date::parse_iso(
            self.date_of_birth
                .as_deref()
                .ok_or(ClaimError::Missing("date_of_birth"))?,
        )
        .ok_or(ClaimError::Invalid {
            field: "date_of_birth",
            problem: "must be a real date YYYY-MM-DD",
        })?;
        Ok(Citizen {
            id_number,
            full_name,
            date_of_birth,
            sex: self.sex.as_deref().map(str::parse).transpose()?,
            nationality: self.nationality.as_deref().map(str::parse).transpose()?,
            place_of_origin: self
                .place_of_origin
                .as_deref()
                .map(|s| Text::new("place_of_origin", s, PLACE_MAX, true))
                .transpose()?,
            place_of_residence: self
                .place_of_residence
                .as_deref()
                .map(|s| Text::new("place_of_residence", s, PLACE_MAX, true))
                .transpose()?,
            photo_sha256: self.photo_sha256.as_deref().map(str::parse).transpose()?,
            face: None,
        })
    }

    /// Every problem of the fields at once, in form order: what [`CitizenInput::to_citizen`]
    /// would refuse, field by field instead of the first only (a form shows them all). Empty
    /// when `to_citizen` succeeds.
    pub fn problems(&self) -> Vec<ClaimError> {
        let mut out = Vec::new();
        let mut check = |r: Result<(), ClaimError>| {
            if let Err(e) = r {
                out.push(e);
            }
        };
        check(match self.id_number.as_deref() {
            None => Err(ClaimError::Missing("id_number")),
            Some(v) => v.parse::<IdNumber>().map(drop),
        });
        check(match self.full_name.as_deref() {
            None => Err(ClaimError::Missing("full_name")),
            Some(v) => Text::new("full_name", v, FULL_NAME_MAX, false).map(drop),
        });
        check(match self.date_of_birth.as_deref() {
            None => Err(ClaimError::Missing("date_of_birth")),
            Some(v) => Date::parse_iso(v).map(drop).ok_or(ClaimError::Invalid {
                field: "date_of_birth",
                problem: "must be a real date YYYY-MM-DD",
            }),
        });
        check(
            self.sex
                .as_deref()
                .map(str::parse::<Sex>)
                .transpose()
                .map(drop),
        );
        check(
            self.nationality
                .as_deref()
                .map(str::parse::<CountryCode>)
                .transpose()
                .map(drop),
        );
        check(
            self.place_of_origin
                .as_deref()
                .map(|s| Text::new("place_of_origin", s, PLACE_MAX, true))
                .transpose()
                .map(drop),
        );
        check(
            self.place_of_residence
                .as_deref()
                .map(|s| Text::new("place_of_residence", s, PLACE_MAX, true))
                .transpose()
                .map(drop),
        );
        check(
            self.photo_sha256
                .as_deref()
                .map(str::parse::<PhotoDigest>)
                .transpose()
                .map(drop),
        );
        out
    }

    /// The issue date, if given.
    pub fn issue_date(&self) -> Result<Option<Date>, ClaimError> {
        parse_opt_date(&self.issue_date, "issue_date")
    }

    /// The expiry date (last day of validity), if given.
    pub fn expiry_date(&self) -> Result<Option<Date>, ClaimError> {
        parse_opt_date(&self.expiry_date, "expiry_date")
    }
}

fn parse_opt_date(v: &Option<String>, field: &'static str) -> Result<Option<Date>, ClaimError> {
    v.as_deref()
        .map(|s| {
            Date::parse_iso(s).ok_or(ClaimError::Invalid {
                field,
                problem: "must be a real date YYYY-MM-DD",
            })
        })
        .transpose()
}

/// serde_json data errors quote string values for some failures (e.g. `invalid type: string
/// "…"`); cut anything between quotes after the first so personal data cannot leak.
fn sanitize(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut quotes = 0;
    for c in msg.chars() {
        if c == '"' {
            quotes += 1;
        }
        // The first quoted token is a field name (`unknown field "x"`), the rest are values.
        if quotes >= 3 && !(c == '"' && quotes % 2 == 0) {
            if quotes % 2 == 1 && c == '"' {
                out.push_str("\"…");
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn problems_lists_every_field_at_once() {
        let input = CitizenInput {
            id_number: Some("12".into()),
            full_name: None,
            date_of_birth: Some("1990-02-30".into()),
            sex: Some("Q".into()),
            ..CitizenInput::default()
        };
        let p = input.problems();
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(input.to_citizen().is_err());
        let ok = CitizenInput {
            id_number: Some("001099012345".into()),
            full_name: Some("Nguyễn Văn An".into()),
            date_of_birth: Some("1990-01-15".into()),
            ..CitizenInput::default()
        };
        assert!(ok.problems().is_empty());
        assert!(ok.to_citizen().is_ok());
    }

    #[test]
    fn country_bitmap_is_the_list() {
        let listed: Vec<&str> = ISO_3166_ALPHA2.split(' ').collect();
        assert_eq!(listed.len(), 249);
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                let code = [a, b];
                let s = std::str::from_utf8(&code).unwrap();
                assert_eq!(assigned(&code), listed.contains(&s), "{s}");
            }
        }
        assert!(!assigned(b"vn") && !assigned(b"VNM") && !assigned(b""));
    }

    use super::*;

    fn input() -> CitizenInput {
        CitizenInput {
            id_number: Some("001099012345".into()),
            full_name: Some("  Nguyễn Thị Minh Khai ".into()),
            date_of_birth: Some("1990-01-15".into()),
            sex: Some("F".into()),
            nationality: Some("VN".into()),
            place_of_origin: Some("Xã Đông Hội, Huyện Đông Anh, Hà Nội".into()),
            place_of_residence: Some("Số 12 Phố Nguyễn Trãi\nHà Nội".into()),
            photo_sha256: Some("ab".repeat(32)),
            ..Default::default()
        }
    }

    #[test]
    fn valid_input_is_normalised() {
        let c = input().to_citizen().unwrap();
        assert_eq!(c.full_name.as_str(), "Nguyễn Thị Minh Khai");
        assert_eq!(c.id_number.as_str(), "001099012345");
        assert_eq!(c.sex, Some(Sex::Female));
    }

    #[test]
    fn nfd_input_becomes_nfc() {
        let nfd: String = "Nguyễn Thị".nfd().collect();
        assert_ne!(nfd, "Nguyễn Thị");
        let t = Text::new("full_name", &nfd, FULL_NAME_MAX, false).unwrap();
        assert_eq!(t.as_str(), "Nguyễn Thị");
    }

    /// Breaks one field of a valid input.
    type Breaker = fn(&mut CitizenInput);

    #[test]
    fn each_broken_field_says_which() {
        let cases: Vec<(Breaker, &str)> = vec![
            (|i| i.id_number = Some("12345678901".into()), "id_number"),
            (|i| i.id_number = Some("12345678901a".into()), "id_number"),
            (|i| i.id_number = None, "id_number"),
            (|i| i.full_name = Some("   ".into()), "full_name"),
            (|i| i.full_name = Some("a".repeat(81)), "full_name"),
            (
                |i| i.full_name = Some("Evil\u{202E}name".into()),
                "full_name",
            ),
            (|i| i.full_name = Some("Two\nlines".into()), "full_name"),
            (
                |i| i.date_of_birth = Some("1990-02-30".into()),
                "date_of_birth",
            ),
            (|i| i.sex = Some("male".into()), "sex"),
            (|i| i.nationality = Some("vn".into()), "nationality"),
            (|i| i.nationality = Some("XX".into()), "nationality"),
            (
                |i| i.place_of_residence = Some("ấ".repeat(121)),
                "place_of_residence",
            ),
            (|i| i.photo_sha256 = Some("zz".repeat(32)), "photo_sha256"),
            (|i| i.photo_sha256 = Some("ab".repeat(31)), "photo_sha256"),
        ];
        for (break_it, field) in cases {
            let mut i = input();
            break_it(&mut i);
            let err = i.to_citizen().unwrap_err().to_string();
            assert!(err.contains(field), "{err} should name {field}");
        }
    }

    #[test]
    fn json_refuses_unknown_fields_and_wrong_types_without_echoing_values() {
        let e = CitizenInput::from_json(r#"{"id_number":"001099012345","nmae":"x"}"#).unwrap_err();
        assert!(e.to_string().contains("nmae"), "{e}");
        let e = CitizenInput::from_json(r#"{"id_number": 1234}"#).unwrap_err();
        assert!(e.to_string().contains("invalid type"), "{e}");
        let e = CitizenInput::from_json(r#"{"full_name": ["Nguyễn Secret"]}"#).unwrap_err();
        assert!(!e.to_string().contains("Secret"), "{e}");
        let e = CitizenInput::from_json("{").unwrap_err();
        assert!(e.to_string().contains("malformed"), "{e}");
        let big = format!(r#"{{"full_name":"{}"}}"#, "a".repeat(MAX_INPUT_JSON));
        assert!(CitizenInput::from_json(&big).is_err());
    }

    #[test]
    fn debug_hides_personal_data() {
        let c = input().to_citizen().unwrap();
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("001099012345") && !dbg.contains("Nguyễn"),
            "{dbg}"
        );
    }
}
