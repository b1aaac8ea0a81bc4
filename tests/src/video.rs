//! Videos for Chromium's fake camera: a still image held in front of the camera, written as
//! YUV4MPEG2 (`.y4m`, 4:2:0), the format `--use-file-for-fake-video-capture=FILE.y4m` plays
//! (in a loop) when Chromium runs with `--use-fake-device-for-media-stream
//! --use-fake-ui-for-media-stream`.

use image::imageops::FilterType;
use image::{Rgb, RgbImage};
use std::path::Path;

/// The frame size of the videos [`write_y4m`] makes by default (VGA, what a webcam gives).
pub const FRAME: (u32, u32) = (640, 480);

/// How an image is scaled into the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Smoothly, as large as fits (a photo).
    Smooth,
    /// By the largest whole factor that fits, each pixel a sharp square (a QR code, whose
    /// modules must stay crisp); shrunk smoothly only if even one pixel a pixel does not fit.
    Sharp,
}

/// The image scaled into a `width`×`height` frame, centred on white, its proportions kept.
pub fn frame(image: &RgbImage, width: u32, height: u32, fit: Fit) -> RgbImage {
    let (iw, ih) = image.dimensions();
    assert!(iw > 0 && ih > 0, "an empty image");
    let scaled = match fit {
        Fit::Sharp if iw <= width && ih <= height => {
            let k = (width / iw).min(height / ih).max(1);
            image::imageops::resize(image, iw * k, ih * k, FilterType::Nearest)
        }
        _ => {
            let s = f64::min(
                f64::from(width) / f64::from(iw),
                f64::from(height) / f64::from(ih),
            );
            // Rounded down and at least one pixel: the result always fits the frame.
            let w = ((f64::from(iw) * s) as u32).clamp(1, width);
            let h = ((f64::from(ih) * s) as u32).clamp(1, height);
            image::imageops::resize(image, w, h, FilterType::Lanczos3)
        }
    };
    let mut out = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    let x = i64::from((width - scaled.width()) / 2);
    let y = i64::from((height - scaled.height()) / 2);
    image::imageops::overlay(&mut out, &scaled, x, y);
    out
}

/// One frame as planar Y′CbCr 4:2:0 (I420), ITU-R BT.601 with studio swing (Y′ 16–235,
/// Cb/Cr 16–240), as Chromium reads an I420 frame; each chroma sample the mean of its 2×2
/// block (JPEG's centred siting, `C420jpeg`). Width and height must be even.
pub fn i420(frame: &RgbImage) -> Vec<u8> {
    let (w, h) = frame.dimensions();
    assert!(
        w % 2 == 0 && h % 2 == 0,
        "a 4:2:0 frame has an even size, not {w}×{h}"
    );
    let (w, h) = (w as usize, h as usize);
    let mut out = Vec::with_capacity(w * h * 3 / 2);
    let px = |x: usize, y: usize| {
        let p = frame.get_pixel(x as u32, y as u32).0;
        (f64::from(p[0]), f64::from(p[1]), f64::from(p[2]))
    };
    let clamp = |v: f64| v.round().clamp(0.0, 255.0) as u8;
    for y in 0..h {
        for x in 0..w {
            let (r, g, b) = px(x, y);
            out.push(clamp(
                16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0,
            ));
        }
    }
    let mut cb = Vec::with_capacity(w * h / 4);
    let mut cr = Vec::with_capacity(w * h / 4);
    for y in (0..h).step_by(2) {
        for x in (0..w).step_by(2) {
            let mut sum = (0.0, 0.0, 0.0);
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let (r, g, b) = px(x + dx, y + dy);
                sum = (sum.0 + r / 4.0, sum.1 + g / 4.0, sum.2 + b / 4.0);
            }
            let (r, g, b) = sum;
            cb.push(clamp(
                128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0,
            ));
            cr.push(clamp(128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0));
        }
    }
    out.extend_from_slice(&cb);
    out.extend_from_slice(&cr);
    out
}

/// A YUV4MPEG2 video of `frames` copies of one frame (its size even) at `fps` frames a
/// second, progressive, square pixels, 4:2:0 with JPEG siting.
pub fn y4m(frame: &RgbImage, frames: u32, fps: u32) -> Vec<u8> {
    assert!(frames > 0 && fps > 0, "a video has frames and a frame rate");
    let (w, h) = frame.dimensions();
    let planes = i420(frame);
    let header = format!("YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n");
    let mut out = Vec::with_capacity(header.len() + frames as usize * (6 + planes.len()));
    out.extend_from_slice(header.as_bytes());
    for _ in 0..frames {
        out.extend_from_slice(b"FRAME\n");
        out.extend_from_slice(&planes);
    }
    out
}

/// Writes to `path` a one-second video (15 frames at 15 frames a second, which Chromium
/// loops) of `image` scaled into a [`FRAME`]-sized frame on white.
pub fn write_y4m(path: &Path, image: &RgbImage, fit: Fit) {
    let f = frame(image, FRAME.0, FRAME.1, fit);
    std::fs::write(path, y4m(&f, 15, 15))
        .unwrap_or_else(|e| panic!("write the video {}: {e}", path.display()));
}

/// [`write_y4m`] of an image file's bytes (PNG or JPEG).
pub fn write_y4m_of(path: &Path, image_bytes: &[u8], fit: Fit) {
    let img = image::load_from_memory(image_bytes)
        .unwrap_or_else(|e| panic!("the image for the video {}: {e}", path.display()))
        .to_rgb8();
    write_y4m(path, &img, fit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_and_black_in_studio_swing() {
        let mut img = RgbImage::from_pixel(4, 2, Rgb([255, 255, 255]));
        img.put_pixel(0, 0, Rgb([0, 0, 0]));
        img.put_pixel(1, 0, Rgb([0, 0, 0]));
        img.put_pixel(0, 1, Rgb([0, 0, 0]));
        img.put_pixel(1, 1, Rgb([0, 0, 0]));
        let p = i420(&img);
        assert_eq!(p.len(), 4 * 2 + 2 * 2);
        assert_eq!(&p[..8], &[16, 16, 235, 235, 16, 16, 235, 235]);
        assert_eq!(&p[8..], &[128, 128, 128, 128]);
    }

    #[test]
    fn the_file_is_a_header_and_whole_frames() {
        let img = RgbImage::from_pixel(10, 10, Rgb([200, 10, 10]));
        let f = frame(&img, 64, 48, Fit::Sharp);
        assert_eq!(f.dimensions(), (64, 48));
        // 10×10 scaled by 4 into the middle of 64×48: white at the corner, red in the middle.
        assert_eq!(f.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(f.get_pixel(32, 24).0, [200, 10, 10]);
        let v = y4m(&f, 3, 10);
        let header = b"YUV4MPEG2 W64 H48 F10:1 Ip A1:1 C420jpeg\n";
        assert!(v.starts_with(header));
        assert_eq!(v.len(), header.len() + 3 * (6 + 64 * 48 * 3 / 2));
        let smooth = frame(&RgbImage::new(180, 240), 640, 480, Fit::Smooth);
        assert_eq!(smooth.get_pixel(320, 240).0, [0, 0, 0]);
        assert_eq!(smooth.get_pixel(100, 240).0, [255, 255, 255]);
    }
}
