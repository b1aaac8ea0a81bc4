//! # qrid-qr
//!
//! QR codes for qrid payloads: rendering to PNG (1 bit per pixel, written directly from the
//! module matrix) and SVG, and decoding from photos and scans (PNG or JPEG) with every size
//! bounded before anything is decoded.
//!
//! ```
//! use qrid_qr::{decode_image, render, DecodeLimits, Ecc, Format, Symbol};
//!
//! let symbol = Symbol::encode("6BFOXN*TS0BI$ZD4N9", Ecc::M).unwrap();
//! assert_eq!(symbol.version(), 1);
//! let png = render("6BFOXN*TS0BI$ZD4N9", Ecc::M, 4, Format::Png).unwrap();
//! assert_eq!(decode_image(&png, &DecodeLimits::default()).unwrap(), ["6BFOXN*TS0BI$ZD4N9"]);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod decode;
#[cfg(any(test, feature = "hostile-images"))]
pub mod hostile;
mod render;
#[cfg(test)]
mod tests;

pub use decode::{decode_image, decode_image_cancellable, decode_memory, DecodeLimits};
pub use render::{render, Ecc, Format, Symbol, MAX_SCALE, QUIET_ZONE};

use thiserror::Error;

/// Everything that can go wrong rendering or reading a QR code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum QrError {
    /// The text does not fit in a version-40 symbol at this error-correction level.
    #[error("text of {0} bytes does not fit in a QR code at this error-correction level")]
    TooLong(usize),
    /// The scale is outside 1..=MAX_SCALE.
    #[error("scale must be 1 to {MAX_SCALE} pixels per module")]
    BadScale,
    /// An unknown error-correction level or format name.
    #[error("unknown {what}: expected {expected}")]
    BadOption {
        /// Which option.
        what: &'static str,
        /// What it may be.
        expected: &'static str,
    },
    /// The image is neither PNG nor JPEG.
    #[error("image is neither PNG nor JPEG")]
    UnsupportedImage,
    /// The image file or its pixel dimensions exceed the limits.
    #[error("image exceeds the limit: {0}")]
    ImageTooLarge(String),
    /// The image could not be decoded.
    #[error("image is corrupt: {0}")]
    ImageCorrupt(String),
    /// No QR code was found in the image.
    #[error("no QR code found in the image")]
    NoQrFound,
    /// The QR detector reached its work limit ([`DecodeLimits::max_work`]) before it was done:
    /// the image holds far more candidate symbols than a photo of a credential.
    #[error("image too complex: the QR detector's work limit was reached")]
    ImageTooComplex,
    /// The caller cancelled the decode (its request ended).
    #[error("image decoding was cancelled")]
    Cancelled,
    /// A QR code was found but could not be read.
    #[error("a QR code was found but could not be read: {0}")]
    QrUnreadable(String),
    /// PNG encoding failed.
    #[error("PNG encoding failed: {0}")]
    PngEncode(String),
}

impl QrError {
    /// The stable snake_case kind.
    pub fn kind(&self) -> &'static str {
        match self {
            QrError::TooLong(_) => "qr_too_long",
            QrError::BadScale => "bad_scale",
            QrError::BadOption { .. } => "bad_option",
            QrError::UnsupportedImage => "unsupported_image",
            QrError::ImageTooLarge(_) => "image_too_large",
            QrError::ImageCorrupt(_) => "image_corrupt",
            QrError::NoQrFound => "no_qr_found",
            QrError::ImageTooComplex => "image_too_complex",
            QrError::Cancelled => "cancelled",
            QrError::QrUnreadable(_) => "qr_unreadable",
            QrError::PngEncode(_) => "png_encode",
        }
    }
}
