//! Serde helpers that give the model client-go's decoding rules.

use serde::{Deserialize, Deserializer};

/// Decodes `null` as the type's zero value, as Go's JSON decoder does.
pub(crate) fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `[]byte` fields: standard base64 with padding, as Go's `encoding/json` writes them.
pub(crate) mod base64 {
    use base64::Engine as _;
    use base64::alphabet::STANDARD;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use serde::{Deserializer, Serializer};

    /// Go's `base64.StdEncoding` in its default, non-strict mode: padding required, stray
    /// trailing bits accepted.
    const GO_STD: GeneralPurpose = GeneralPurpose::new(
        &STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );

    /// How every decoding error message starts (load.rs recognises it).
    pub(crate) const ERROR_PREFIX: &str = "illegal base64 data";

    pub(crate) fn encode(bytes: &[u8]) -> String {
        GO_STD.encode(bytes)
    }

    /// Decodes like Go: line breaks are skipped; the error names the offending byte offset.
    pub(crate) fn decode(text: &str) -> Result<Vec<u8>, String> {
        let decoded = if super::contains_any(text, b'\n', b'\r') {
            let joined: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
            GO_STD.decode(joined)
        } else {
            GO_STD.decode(text)
        };
        decoded.map_err(|e| match e {
            ::base64::DecodeError::InvalidByte(offset, _) => {
                format!("{ERROR_PREFIX} at input byte {offset}")
            }
            ::base64::DecodeError::InvalidLength(len) => {
                format!("{ERROR_PREFIX}: length {len} is not a multiple of 4")
            }
            ::base64::DecodeError::InvalidLastSymbol { offset, .. } => {
                format!("{ERROR_PREFIX} at input byte {offset}")
            }
            ::base64::DecodeError::InvalidPadding => format!("{ERROR_PREFIX}: bad padding"),
        })
    }

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text: String = super::nullable(deserializer)?;
        decode(&text).map_err(serde::de::Error::custom)
    }
}

/// Whether `text` contains byte `a` or `b` (two memchr scans: the fastest way here, measured).
pub(crate) fn contains_any(text: &str, a: u8, b: u8) -> bool {
    text.as_bytes().contains(&a) || text.as_bytes().contains(&b)
}

/// Whether a value is Go's zero value (then `omitempty` leaves it out).
pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}

#[cfg(test)]
mod tests {
    use super::base64::{decode, encode};

    #[test]
    fn base64_follows_go_std_encoding() {
        assert_eq!(encode(b"hello"), "aGVsbG8=");
        assert_eq!(decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode("aGVs\nbG8=").unwrap(), b"hello", "line breaks are skipped");
        assert_eq!(decode("ab!c").unwrap_err(), "illegal base64 data at input byte 2");
        assert!(decode("aGVsbG8").is_err(), "padding is required");
    }
}
