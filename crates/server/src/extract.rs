//! Request extractors whose failures use the API's error shape.

use axum::extract::FromRequest;

use crate::error::ApiError;

/// `axum::Json`, but a malformed body answers `{"error","message"}` with 400 (or 413).
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);
